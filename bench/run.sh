#!/usr/bin/env bash
# The benchmark in one command: bench/run.sh [--quick] [--no-build] [--rounds N] [--seconds S]
# Needs wrk, nginx, taskset, mariadb and redis-cli (installed from Debian when missing and run as root), and MariaDB + Redis running (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# A fresh machine lacks the load generator and the reference proxy: install Debian's packages when we may.
missing=()
for tool in wrk nginx taskset mariadb redis-cli; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk nginx util-linux mariadb-client redis-tools >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq wrk nginx util-linux mariadb-client redis-tools >/dev/null; }
fi

exec python3 bench/bench.py "$@"
