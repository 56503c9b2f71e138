#!/usr/bin/env bash
# Micro-benchmarks of the hot path (JMH): bench/jmh.sh [benchmark-name-regex] [extra JMH options]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/jmh-classpath.txt -Dmdep.includeScope=test
exec java -cp "target/test-classes:target/classes:$(cat target/jmh-classpath.txt)" org.openjdk.jmh.Main \
  "io.inferencegateway.jmh.HotPathBenchmarks.${1:-}" "${@:2}"
