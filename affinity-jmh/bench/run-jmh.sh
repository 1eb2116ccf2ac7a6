#!/usr/bin/env bash
# Runs the routing benchmarks with the settings stated in docs/benchmarks.md and writes JMH's JSON
# to affinity-jmh/results/. Usage: affinity-jmh/bench/run-jmh.sh [JMH regex and options...]
#   affinity-jmh/bench/run-jmh.sh                        # everything, about 25 minutes on 2 cores
#   affinity-jmh/bench/run-jmh.sh 'PeerBenchmark' -p backends=100
# Then: python3 affinity-jmh/bench/report.py affinity-jmh/results/<file>.json
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
jar="$repo/affinity-jmh/target/benchmarks.jar"
if [[ ! -f "$jar" || "${REBUILD:-1}" == 1 ]]; then
  (cd "$repo" && mvn -B -q -pl affinity-jmh -am package -DskipTests -Dspotless.check.skip=true)
fi
mkdir -p "$repo/affinity-jmh/results"
out="$repo/affinity-jmh/results/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
# Settings (also the annotations' defaults): 1 fork, 3 x 1 s warmup, 5 x 1 s measurement, 1 thread.
# One thread because the machine has 2 cores and JMH's own infrastructure needs the other.
java -jar "$jar" -f 1 -wi 3 -w 1s -i 5 -r 1s -t 1 -prof gc -rf json -rff "$out" "$@"
echo "results: $out"
