#!/bin/bash
# Configures MariaDB and Redis on the data VM for the gateways on the private
# network: both listen on every interface (the firewall opens 3306 and 6379 to
# the gateways' private addresses only), Redis requires a password, and the
# gateway's database and user exist. Safe to run more than once.
set -euo pipefail

conf=/etc/redis/redis.conf
include=/etc/redis/inference-gateway.conf
install -o redis -g redis -m 0640 /etc/inference-gateway/redis.conf "$include"
# Directives read later win: the include goes last.
if ! grep -qxF "include $include" "$conf"; then
  echo "include $include" >>"$conf"
fi

systemctl enable redis-server.service mariadb.service
systemctl restart redis-server.service mariadb.service
mysql --protocol=socket -u root </etc/inference-gateway/db-setup.sql
echo "data VM ready: MariaDB on 3306, Redis on 6379"
