#!/usr/bin/env bash
# Runs the routing benchmarks with the settings stated in docs/benchmarks.md and writes JMH's JSON
# to affinity-jmh/results/. Usage: affinity-jmh/bench/run-jmh.sh [JMH regex and options...]
#   affinity-jmh/bench/run-jmh.sh                        # everything, about 17 minutes on 2 cores
#   affinity-jmh/bench/run-jmh.sh 'PeerBenchmark' -p backends=100
# Then: python3 affinity-jmh/bench/report.py affinity-jmh/results/<file>.json
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
jar="$repo/affinity-jmh/target/benchmarks.jar"
if [[ ! -f "$jar" || "${REBUILD:-1}" == 1 ]]; then
  (cd "$repo" && ./mvnw -B -q -pl affinity-jmh -am package -DskipTests -Dspotless.check.skip=true)
fi
mkdir -p "$repo/affinity-jmh/results"
out="$repo/affinity-jmh/results/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
# Settings: 1 fork, 2 x 1 s warmup, 10 x 300 ms measurement, 1 thread; -prof gc for bytes/op.
# One thread because the machine has 2 cores and the other is needed by JMH and the OS. Many short
# iterations because the machine is shared: report.py takes the fastest iteration and the median.
# On a quiet machine the annotations' own defaults (3 x 1 s warmup, 5 x 1 s) are just as good.
java -jar "$jar" -f 1 -wi 2 -w 1s -i 10 -r 300ms -t 1 -prof gc -rf json -rff "$out" "$@"
echo "results: $out"
