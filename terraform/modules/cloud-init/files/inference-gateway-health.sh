#!/bin/bash
# Probes of the local gateway's health endpoints.
#
#   inference-gateway-health.sh wait   ExecStartPost of inference-gateway.service. Succeeds once
#       GET /health/live answers 2xx; fails after HEALTH_LIVE_TIMEOUT seconds (default 300), so
#       systemd stops and restarts the gateway. Then waits up to HEALTH_READY_TIMEOUT seconds
#       (default 120) for GET /health/ready and only warns when it does not come: readiness is
#       for load balancers, and a gateway that waits for its database must not be restarted.
#   inference-gateway-health.sh live   waits for /health/live only (the registration uses it).
#   inference-gateway-health.sh watch  run by inference-gateway-health.timer. Restarts the gateway
#       (SIGTERM, so it drains) after HEALTH_MAX_FAILURES (default 3) failed /health/live probes in
#       a row: Restart=always does not help a JVM that hangs. While the gateway is live it also
#       refreshes its cluster registration (inference-gateway-cluster.sh refresh).
#
# Reads HTTP_PORT and TLS_CERT_FILE from the environment (gateway.env). With TLS the probes go to
# https://127.0.0.1 without checking the certificate (it names the public host; the probe never
# leaves this VM).
set -uo pipefail

mode=${1:-}
scheme=http
if [ -n "${TLS_CERT_FILE:-}" ]; then scheme=https; fi
base="$scheme://127.0.0.1:${HTTP_PORT:-5001}"

log() { echo "health: $*" >&2; }

# probe PATH: true when GET PATH answers 2xx within 5 s.
probe() { curl -fsS --insecure --max-time 5 -o /dev/null "$base$1" 2>/dev/null; }

# wait_for PATH SECONDS: true once PATH answers, false after SECONDS.
wait_for() {
  local path=$1 timeout=$2 start=$SECONDS
  until probe "$path"; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      return 1
    fi
    sleep 2
  done
}

wait_live() {
  local timeout=${HEALTH_LIVE_TIMEOUT:-300}
  if ! wait_for /health/live "$timeout"; then
    log "$base/health/live did not answer within $timeout s"
    return 1
  fi
  log "$base/health/live answers"
}

case "$mode" in
  live)
    wait_live
    ;;
  wait)
    wait_live || exit 1
    timeout=${HEALTH_READY_TIMEOUT:-120}
    if wait_for /health/ready "$timeout"; then
      log "$base/health/ready answers"
    else
      log "WARNING: $base/health/ready did not answer within $timeout s (database or replicas missing?); the gateway stays up"
    fi
    ;;
  watch)
    state=${HEALTH_STATE_FILE:-/run/inference-gateway-health.failures}
    unit=inference-gateway.service
    # Starting (ExecStartPost still waiting), stopping or stopped: not ours to judge.
    if ! systemctl is-active --quiet "$unit"; then
      rm -f "$state"
      exit 0
    fi
    if probe /health/live; then
      rm -f "$state"
      if [ -f /run/inference-gateway/cluster.env ]; then
        /usr/local/sbin/inference-gateway-cluster.sh refresh || log "refreshing the cluster registration failed"
      fi
      exit 0
    fi
    failures=$(cat "$state" 2>/dev/null || echo 0)
    [[ $failures =~ ^[0-9]+$ ]] || failures=0
    failures=$((failures + 1))
    max=${HEALTH_MAX_FAILURES:-3}
    if [ "$failures" -ge "$max" ]; then
      log "$base/health/live failed $failures times in a row: restarting $unit"
      rm -f "$state"
      systemctl restart --no-block "$unit"
    else
      log "$base/health/live failed ($failures of $max)"
      echo "$failures" >"$state"
    fi
    ;;
  *)
    echo "usage: $0 wait|live|watch" >&2
    exit 2
    ;;
esac
