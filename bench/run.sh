#!/usr/bin/env bash
# The benchmark in one command: bench/run.sh [--quick] [--no-build] [--rounds N] [--seconds S]
# Needs root-free tools wrk, nginx, taskset, mariadb and redis-cli, and MariaDB + Redis running (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 bench/bench.py "$@"
