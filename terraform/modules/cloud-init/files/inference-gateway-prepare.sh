#!/bin/bash
# Prepares the gateway VM before its services start: the system user the
# gateway runs as, and the permissions of its TLS files (written by cloud-init
# as root-only before that user existed). Safe to run more than once.
set -euo pipefail

user=inference-gateway
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --home-dir /var/lib/inference-gateway \
    --shell /usr/sbin/nologin "$user"
fi

tls=/etc/inference-gateway/tls
if [ -d "$tls" ]; then
  # The key is readable by the gateway's group only; the certificate is public.
  chown root:"$user" "$tls" "$tls/key.pem"
  chmod 0750 "$tls"
  chmod 0640 "$tls/key.pem"
  chown root:root "$tls/cert.pem"
  chmod 0644 "$tls/cert.pem"
fi
