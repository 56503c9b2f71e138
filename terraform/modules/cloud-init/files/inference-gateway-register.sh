#!/bin/bash
# Registers every model and replica listed in /etc/inference-gateway/models.json
# with the local gateway's admin API. Idempotent: an existing model or replica
# ("already exists") counts as success, so it runs on every boot.
set -uo pipefail

env_file=/etc/inference-gateway/gateway.env
models_file=/etc/inference-gateway/models.json

log() { echo "register: $*" >&2; }
env_value() { sed -n "s/^$1=//p" "$env_file" | tail -n 1; }

port=$(env_value HTTP_PORT)
base="http://127.0.0.1:${port:-5001}"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
chmod 0700 "$workdir"
# The admin key goes to curl through a file so that it never shows in `ps`.
printf 'Authorization: Bearer %s\n' "$(env_value ADMIN_API_KEY)" >"$workdir/auth"

# api METHOD PATH [JSON]: sets $code and $body.
api() {
  local method=$1 path=$2 data=${3:-}
  local args=(-sS --max-time 30 -o "$workdir/body" -w '%{http_code}' -X "$method"
    -H "@$workdir/auth" -H 'Content-Type: application/json')
  if [ -n "$data" ]; then args+=(--data "$data"); fi
  code=$(curl "${args[@]}" "$base$path") || code=000
  body=$(cat "$workdir/body" 2>/dev/null || true)
}

already_exists() { grep -qi 'already exists' <<<"$body"; }

log "waiting for $base/health"
for attempt in $(seq 1 120); do
  if curl -fsS --max-time 5 -o /dev/null "$base/health"; then
    break
  fi
  if [ "$attempt" -eq 120 ]; then
    log "gateway did not become healthy in 10 minutes"
    exit 1
  fi
  sleep 5
done

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

  while IFS= read -r endpoint; do
    api POST "/api/v1/models/$id/replicas" \
      "$(jq -cn --arg e "$endpoint" '{endpoint: $e, rate_limit: null}')"
    if [ "$code" = 201 ]; then
      log "added replica $endpoint to $name"
    elif [ "$code" = 400 ] && already_exists; then
      log "replica $endpoint of $name already registered"
    else
      log "adding replica $endpoint to $name failed: HTTP $code $body"
      failed=1
    fi
  done < <(jq -r '.endpoints[]' <<<"$entry")
done < <(jq -c '.[]' "$models_file")

if [ "$failed" -ne 0 ]; then
  log "some registrations failed"
  exit 1
fi
log "all models and replicas registered"
