#!/bin/bash
# Cluster membership of the gateway VMs (Terraform gateway_count > 1).
#
# Terraform cannot write the member list into the gateways' cloud-init: a VM's
# private address is known only once it exists, so each gateway's cloud-init
# would need the addresses of the others (a dependency cycle). Instead every
# gateway registers "<own private address>:<CLUSTER_PORT>" in the shared Redis
# (a sorted set scored with Redis' clock) and takes the registered members as
# CLUSTER_MEMBERS. Hazelcast does the rest: a member needs one reachable entry
# of its list to join, and clusters that started apart merge when they find
# each other.
#
#   inference-gateway-cluster.sh env      ExecStartPre of inference-gateway.service:
#       register, then write CLUSTER_HOST, CLUSTER_PORT and CLUSTER_MEMBERS to
#       $RUNTIME_DIRECTORY/cluster.env (the unit's EnvironmentFile for ExecStart).
#   inference-gateway-cluster.sh refresh  from the liveness timer while the gateway
#       is live: register again. Members not registered for CLUSTER_MEMBER_TTL
#       seconds (default 600) are left out of new lists and removed.
#
# Environment: REDIS_URL (redis://[[user]:password@]host[:port][/db], the
# password made of URL-safe characters), CLUSTER_PORT (default 5701),
# CLUSTER_HOST (default: this VM's address on the route to Redis),
# CLUSTER_REGISTRY_KEY (default inference-gateway:cluster:members),
# CLUSTER_REDIS_WAIT (seconds to retry Redis at start, default 60).
# When Redis cannot be used, `env` takes the list of the last start (kept in
# $STATE_DIRECTORY) plus this VM. On a first start there is no such list and it
# fails (systemd starts the unit again): a member started alone would form a
# cluster of its own that no other member knows of.
set -euo pipefail

mode=${1:-}
log() { echo "cluster: $*" >&2; }

url=${REDIS_URL:?REDIS_URL is not set}
re='^redis://(([^:@/]*):([^@/]*)@)?([^:@/]+)(:([0-9]+))?(/([0-9]+))?$'
if ! [[ $url =~ $re ]]; then
  log "REDIS_URL is not redis://[[user]:password@]host[:port][/db]"
  exit 1
fi
redis_user=${BASH_REMATCH[2]}
redis_password=${BASH_REMATCH[3]}
redis_host=${BASH_REMATCH[4]}
redis_port=${BASH_REMATCH[6]:-6379}
redis_db=${BASH_REMATCH[8]:-0}
# The password goes to redis-cli through the environment, never its arguments (ps).
if [ -n "$redis_password" ]; then export REDISCLI_AUTH=$redis_password; fi

key=${CLUSTER_REGISTRY_KEY:-inference-gateway:cluster:members}
ttl=${CLUSTER_MEMBER_TTL:-600}
port=${CLUSTER_PORT:-5701}
runtime_dir=${RUNTIME_DIRECTORY:-/run/inference-gateway}
state_dir=${STATE_DIRECTORY:-/var/lib/inference-gateway}

# redis-cli exits 0 on error replies too: callers check what came back.
rcli() {
  local args=(--raw -h "$redis_host" -p "$redis_port" -n "$redis_db")
  if [ -n "$redis_user" ]; then args+=(--user "$redis_user"); fi
  redis-cli "${args[@]}" "$@"
}

# Redis' clock, so that members with skewed clocks agree on ages.
redis_now() {
  local now
  now=$(rcli TIME | sed -n 1p) || return 1
  [[ $now =~ ^[0-9]+$ ]] || return 1
  echo "$now"
}

# register MEMBER: adds or refreshes MEMBER, drops expired members.
register() {
  local now out
  now=$(redis_now) || return 1
  out=$(rcli ZADD "$key" "$now" "$1") || return 1
  [[ $out =~ ^[0-9]+$ ]] || { log "ZADD answered: $out"; return 1; }
  out=$(rcli ZREMRANGEBYSCORE "$key" -inf "($((now - ttl))") || return 1
  [[ $out =~ ^[0-9]+$ ]] || { log "ZREMRANGEBYSCORE answered: $out"; return 1; }
}

# members: the registered members, one host:port per line, sorted.
members() {
  local now out line
  now=$(redis_now) || return 1
  out=$(rcli ZRANGEBYSCORE "$key" "$((now - ttl))" +inf) || return 1
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    [[ $line =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || { log "unexpected member or answer: $line"; return 1; }
    echo "$line"
  done <<<"$out" | sort -u
}

own_address() {
  if [ -n "${CLUSTER_HOST:-}" ]; then
    echo "$CLUSTER_HOST"
    return
  fi
  local target=$redis_host
  if ! [[ $target =~ ^[0-9.]+$ ]]; then
    target=$(getent ahostsv4 "$target" | awk 'NR == 1 { print $1 }')
  fi
  ip -4 route get "$target" | sed -n 's/.* src \([0-9.]*\).*/\1/p' | sed -n 1p
}

case "$mode" in
  env)
    host=$(own_address)
    if [ -z "$host" ]; then
      log "cannot tell this VM's address (set CLUSTER_HOST)"
      exit 1
    fi
    self="$host:$port"
    cache="$state_dir/cluster-members"
    list=""
    deadline=$((SECONDS + ${CLUSTER_REDIS_WAIT:-60}))
    while :; do
      if register "$self" && list=$(members) && [ -n "$list" ]; then
        printf '%s\n' "$list" >"$cache.tmp" && mv "$cache.tmp" "$cache"
        break
      fi
      list=""
      if [ "$SECONDS" -ge "$deadline" ]; then
        if ! [ -s "$cache" ]; then
          log "Redis at $redis_host:$redis_port not usable and no list of an earlier start: not starting alone"
          exit 1
        fi
        log "WARNING: Redis at $redis_host:$redis_port not usable: using the members of the last start"
        list=$(cat "$cache")
        break
      fi
      sleep 3
    done
    joined=$(printf '%s\n%s\n' "$self" "$list" | sed '/^$/d' | sort -u | paste -sd, -)
    mkdir -p "$runtime_dir"
    {
      echo "CLUSTER_HOST=$host"
      echo "CLUSTER_PORT=$port"
      echo "CLUSTER_MEMBERS=$joined"
    } >"$runtime_dir/cluster.env.tmp"
    mv "$runtime_dir/cluster.env.tmp" "$runtime_dir/cluster.env"
    log "CLUSTER_HOST=$host CLUSTER_MEMBERS=$joined"
    ;;
  refresh)
    file="$runtime_dir/cluster.env"
    host=$(sed -n 's/^CLUSTER_HOST=//p' "$file")
    port=$(sed -n 's/^CLUSTER_PORT=//p' "$file")
    if [ -z "$host" ] || [ -z "$port" ]; then
      log "$file has no CLUSTER_HOST/CLUSTER_PORT"
      exit 1
    fi
    register "$host:$port"
    ;;
  *)
    echo "usage: $0 env|refresh" >&2
    exit 2
    ;;
esac
