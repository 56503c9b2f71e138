#!/bin/bash
# Registers every model and replica listed in /etc/inference-gateway/models.json
# with the local gateway's admin API, each replica with the API key its vLLM
# requires. Idempotent: an existing model or replica ("already exists") counts
# as success, so it runs on every boot. Runs with gateway.env as environment
# (HTTP_PORT, ADMIN_API_KEY, TLS_CERT_FILE).
set -uo pipefail

models_file=/etc/inference-gateway/models.json

log() { echo "register: $*" >&2; }

scheme=http
if [ -n "${TLS_CERT_FILE:-}" ]; then scheme=https; fi
base="$scheme://127.0.0.1:${HTTP_PORT:-5001}"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
chmod 0700 "$workdir"
# Secrets go to curl through files, never its arguments, so they never show in `ps`.
printf 'Authorization: Bearer %s\n' "${ADMIN_API_KEY:?ADMIN_API_KEY is not set}" >"$workdir/auth"

# api METHOD PATH [JSON]: sets $code and $body. With TLS, --insecure: the
# certificate names the public host and this request never leaves the VM.
api() {
  local method=$1 path=$2 data=${3:-}
  local args=(-sS --insecure --max-time 30 -o "$workdir/body" -w '%{http_code}' -X "$method"
    -H "@$workdir/auth" -H 'Content-Type: application/json')
  if [ -n "$data" ]; then
    printf '%s' "$data" >"$workdir/data"
    args+=(--data-binary "@$workdir/data")
  fi
  code=$(curl "${args[@]}" "$base$path") || code=000
  body=$(cat "$workdir/body" 2>/dev/null || true)
  rm -f "$workdir/data"
}

already_exists() { grep -qi 'already exists' <<<"$body"; }

log "waiting for the gateway's /health/live"
if ! HEALTH_LIVE_TIMEOUT=600 /usr/local/sbin/inference-gateway-health.sh live; then
  log "gateway did not become live in 10 minutes"
  exit 1
fi

failed=0
while IFS= read -r entry; do
  name=$(jq -r '.name' <<<"$entry")

  api POST /api/v1/models "$(jq -cn --arg n "$name" '{name: $n}')"
  id=""
  if [ "$code" = 201 ]; then
    id=$(jq -r '.id // empty' <<<"$body")
    log "created model $name (id $id)"
  elif [ "$code" = 400 ] && already_exists; then
    log "model $name already exists"
  else
    log "creating model $name failed: HTTP $code $body"
    failed=1
    continue
  fi

  if [ -z "$id" ]; then
    api GET "/api/v1/models/$(jq -rn --arg n "$name" '$n | @uri')"
    if [ "$code" = 200 ]; then
      id=$(jq -r '.id // empty' <<<"$body")
    fi
  fi
  if [ -z "$id" ]; then
    log "could not read the id of model $name: HTTP $code $body"
    failed=1
    continue
  fi

  while IFS= read -r replica; do
    endpoint=$(jq -r '.endpoint' <<<"$replica")
    # The key is in jq's input, not its arguments (ps); left out when empty.
    api POST "/api/v1/models/$id/replicas" \
      "$(jq -c '{endpoint, rate_limit: null} + (if (.api_key // "") == "" then {} else {api_key} end)' <<<"$replica")"
    if [ "$code" = 201 ]; then
      log "added replica $endpoint to $name"
    elif [ "$code" = 400 ] && already_exists; then
      log "replica $endpoint of $name already registered"
    else
      log "adding replica $endpoint to $name failed: HTTP $code $body"
      failed=1
    fi
  done < <(jq -c '.replicas[]' <<<"$entry")
done < <(jq -c '.[]' "$models_file")

if [ "$failed" -ne 0 ]; then
  log "some registrations failed"
  exit 1
fi
log "all models and replicas registered"
