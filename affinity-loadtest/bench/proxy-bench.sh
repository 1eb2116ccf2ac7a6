#!/usr/bin/env bash
# The proxy benchmark: one run, the same three echo backends, the same load generator, against
#   direct (the load generator talks to backend ws-1: the baseline and the generator's own ceiling),
#   affinity-netty, affinity-jetty, HAProxy and nginx (Debian packages, installed if missing;
#   consistent source hashing; WebSocket),
# in ROUNDS rounds whose order alternates (forwards, backwards, ...). Each round measures two
# workloads per target: many small echoes (CONNECTIONS x MESSAGES round trips of SIZE bytes) and
# streaming (STREAM_CONNECTIONS connections x STREAM_MESSAGES messages of STREAM_SIZE bytes, MB/s).
# Then a capacity run per proxy (CAPACITY idle connections held IDLE_SECONDS: RSS, heap and threads).
# Everything binds 127.0.0.1 and is stopped at the end. Results: a Markdown report (medians of the
# rounds and the spread of each ratio) and the raw JSON lines under affinity-loadtest/results/.
#
#   affinity-loadtest/bench/proxy-bench.sh                  # everything (about 20 minutes)
#   TARGETS="direct haproxy nginx" CAPACITY=0 affinity-loadtest/bench/proxy-bench.sh
#   PROFILE=1 TARGETS="netty jetty" ROUNDS=1 CAPACITY=0 ...  # JFR recordings of the JVM proxies
#
# Knobs (environment): TARGETS, ROUNDS (3), CONNECTIONS (3000), CONCURRENCY (100), MESSAGES (40),
# SIZE (64), STREAM_CONNECTIONS (100), STREAM_MESSAGES (300), STREAM_SIZE (16384), STREAM_WINDOW (4),
# WORKLOADS ("echo stream"), CAPACITY (5000; lowered to what the fd limit allows), IDLE_SECONDS (60),
# NETTY_THREADS (2), ALT_JAR (targets netty-alt, jetty-alt), TIMEOUT (300 s per measured run), PROFILE (0), BUILD (1).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
TARGETS="${TARGETS:-direct netty jetty haproxy nginx}"
CONNECTIONS="${CONNECTIONS:-3000}"
CONCURRENCY="${CONCURRENCY:-100}"
MESSAGES="${MESSAGES:-40}"
SIZE="${SIZE:-64}"
STREAM_CONNECTIONS="${STREAM_CONNECTIONS:-100}"
STREAM_MESSAGES="${STREAM_MESSAGES:-300}"
STREAM_SIZE="${STREAM_SIZE:-16384}"
STREAM_WINDOW="${STREAM_WINDOW:-4}"
WORKLOADS="${WORKLOADS:-echo stream}"
CAPACITY="${CAPACITY:-5000}"
IDLE_SECONDS="${IDLE_SECONDS:-60}"
ROUNDS="${ROUNDS:-3}"
NETTY_THREADS="${NETTY_THREADS:-2}"
PROFILE="${PROFILE:-0}"
TIMEOUT="${TIMEOUT:-300}"
BUILD="${BUILD:-1}"
BACKEND_PORTS=(27001 27002 27003)
declare -A PORT=([direct]=27001 [netty]=27081 [jetty]=27082 [haproxy]=27083 [nginx]=27084
  [netty-alt]=27085 [jetty-alt]=27086)
# ALT_JAR: another build of affinity-loadtest.jar whose adapters run as targets netty-alt and
# jetty-alt, for a before/after comparison of a change in one run.
ALT_JAR="${ALT_JAR:-}"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$repo/affinity-loadtest/results"
work="$(mktemp -d /tmp/affinity-proxy-bench.XXXXXX)"
mkdir -p "$results"
raw="$results/proxy-$stamp.jsonl"
report="$results/proxy-$stamp.md"
: >"$raw"
pids=()

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

cleanup() {
  local p
  for p in "${pids[@]:-}"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]:-}"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Each proxied connection holds two descriptors in the proxy; stay under the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit="$(ulimit -n)"
max_capacity=$(((fd_limit - 500) / 2))
if ((CAPACITY > max_capacity)); then
  log "fd limit is $fd_limit (ulimit -Hn; raising it needs CAP_SYS_RESOURCE): capacity run lowered from $CAPACITY to $max_capacity connections"
  CAPACITY=$max_capacity
fi

install_peers() {
  local need=()
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v nginx >/dev/null || need+=(nginx)
  if ((${#need[@]})); then
    log "installing ${need[*]} from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

wait_port() { # host port seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
    if ((SECONDS > deadline)); then
      log "nothing listens on $1:$2 after $3 s"
      return 1
    fi
    sleep 0.2
  done
}

start_bg() { # name command... ; sets LAST_PID
  "${@:2}" >"$work/$1.log" 2>&1 &
  LAST_PID=$!
  pids+=("$LAST_PID")
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# ---- build --------------------------------------------------------------------------------------
loadtest_jar="$repo/affinity-loadtest/target/affinity-loadtest.jar"
if [[ "$BUILD" == 1 || ! -f "$loadtest_jar" ]]; then
  log "building affinity-loadtest (and the adapters it launches)"
  (cd "$repo" && ./mvnw -B -q -pl affinity-loadtest -am package -DskipTests -Dspotless.check.skip=true)
fi
JAVA_PROXY_OPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -XX:NativeMemoryTracking=summary)
profile_opts() { # target round
  if [[ "$PROFILE" == 1 ]]; then
    echo "-XX:StartFlightRecording=settings=profile,filename=$results/proxy-$stamp-$1-r$2.jfr"
  fi
}

# ---- the proxies --------------------------------------------------------------------------------
write_haproxy() {
  cat >"$work/haproxy.cfg" <<CFG
global
  maxconn $(((fd_limit - 200) / 2))
  nbthread 2
  log stderr format raw local0 err
defaults
  mode http
  maxconn $(((fd_limit - 200) / 2))
  option http-server-close
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout tunnel 1h
frontend ws
  bind 127.0.0.1:${PORT[haproxy]}
  default_backend echo
backend echo
  balance source
  hash-type consistent
  server ws-1 127.0.0.1:${BACKEND_PORTS[0]}
  server ws-2 127.0.0.1:${BACKEND_PORTS[1]}
  server ws-3 127.0.0.1:${BACKEND_PORTS[2]}
CFG
}

write_nginx() {
  mkdir -p "$work/nginx"
  cat >"$work/nginx.conf" <<CFG
worker_processes 2;
worker_rlimit_nofile $fd_limit;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 30000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream echo {
    hash \$remote_addr consistent;
    server 127.0.0.1:${BACKEND_PORTS[0]};
    server 127.0.0.1:${BACKEND_PORTS[1]};
    server 127.0.0.1:${BACKEND_PORTS[2]};
  }
  server {
    listen 127.0.0.1:${PORT[nginx]} backlog=4096;
    location / {
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
CFG
}

# Starts target $1 (round $2, for recordings); sets PROXY_PID (0 for direct) and PROXY_KIND.
start_target() {
  PROXY_PID=0
  PROXY_KIND=none
  local backends="ws-1=127.0.0.1:${BACKEND_PORTS[0]},ws-2=127.0.0.1:${BACKEND_PORTS[1]},ws-3=127.0.0.1:${BACKEND_PORTS[2]}"
  case "$1" in
    direct) return 0 ;;
    netty | jetty | netty-alt | jetty-alt)
      local jar="$loadtest_jar"
      if [[ "$1" == *-alt ]]; then
        [[ -f "$ALT_JAR" ]] || { log "$1 needs ALT_JAR"; return 1; }
        jar="$ALT_JAR"
      fi
      # shellcheck disable=SC2046
      start_bg "$1" java "${JAVA_PROXY_OPTS[@]}" $(profile_opts "$1" "${2:-0}") -cp "$jar" \
        -Daffinity.netty.threads="$NETTY_THREADS" dev.affinity.loadtest.ProxyLauncher \
        "${1%-alt}" "${PORT[$1]}" "$backends"
      PROXY_KIND=jvm
      ;;
    haproxy)
      write_haproxy
      start_bg haproxy haproxy -db -f "$work/haproxy.cfg"
      PROXY_KIND=native
      ;;
    nginx)
      write_nginx
      start_bg nginx nginx -p "$work/nginx" -c "$work/nginx.conf" -g 'daemon off;'
      PROXY_KIND=native
      ;;
    *) log "unknown target $1"; return 1 ;;
  esac
  PROXY_PID=$LAST_PID
  wait_port 127.0.0.1 "${PORT[$1]}" 60
}

# Resident memory of a process and its children (nginx workers), in KiB.
rss_kib() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# Threads of a process and its children.
thread_count() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^Threads:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# Open descriptors of a process and its children.
fd_count() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(ls "/proc/$p/fd" 2>/dev/null | wc -l)))
  done
  echo "$total"
}

# JVM heap used after a full GC, and NMT "Other" (NIO direct and Netty's Unsafe memory), in KiB.
jvm_heap_kib() {
  jcmd "$1" GC.run >/dev/null
  jcmd "$1" GC.heap_info | awk '/used/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub("K", "", v); print v; exit}}'
}
jvm_direct_kib() {
  jcmd "$1" VM.native_memory summary | awk '/- +Other \(/ {for (i = 1; i <= NF; i++) if ($i ~ /^committed=/) {v = $i; gsub("[^0-9]", "", v); print v; exit}}'
}

loadgen() {
  java -Xms256m -Xmx2g -cp "$loadtest_jar" dev.affinity.loadtest.LoadGenerator "$@" 2>/dev/null | tail -1
}

# ---- run ----------------------------------------------------------------------------------------
install_peers
log "machine: $(nproc) cores; $(java -version 2>&1 | head -1); $(haproxy -v | head -1 | cut -d' ' -f1-3); $(nginx -v 2>&1)"
echo "{\"phase\":\"start\",\"uptime\":\"$(uptime)\"}" >>"$raw"
start_bg backends java -Xms256m -Xmx1g -cp "$loadtest_jar" dev.affinity.loadtest.EchoServer \
  ws-1 "${BACKEND_PORTS[0]}" ws-2 "${BACKEND_PORTS[1]}" ws-3 "${BACKEND_PORTS[2]}"
for p in "${BACKEND_PORTS[@]}"; do wait_port 127.0.0.1 "$p" 60; done

# Rounds alternate the order (forwards, backwards, ...), so that a burst of load from elsewhere on a
# shared machine does not always hit the same target; the report takes the median of the rounds.
order="$TARGETS"
for round in $(seq 1 "$ROUNDS"); do
for t in $order; do
  log "round $round: $t ($(uptime | sed 's/.*load/load/'))"
  if ! start_target "$t" "$round"; then
    echo "{\"target\":\"$t\",\"phase\":\"echo\",\"round\":$round,\"error\":\"did not start\"}" >>"$raw"
    continue
  fi
  uri="ws://127.0.0.1:${PORT[$t]}/"
  # Warm-up (JIT for the JVM proxies), then the measured runs.
  loadgen --uri "$uri" --connections 300 --concurrency 50 --messages 20 --size "$SIZE" >/dev/null || true
  for w in $WORKLOADS; do
    case "$w" in
      # A generous timeout: on a crowded machine a run can take minutes, and a connection still
      # busy when the timeout ends counts as an error.
      echo) line="$(loadgen --uri "$uri" --connections "$CONNECTIONS" --concurrency "$CONCURRENCY" \
        --messages "$MESSAGES" --size "$SIZE" --timeout-seconds "$TIMEOUT" || true)" ;;
      stream) line="$(loadgen --uri "$uri" --mode stream --connections "$STREAM_CONNECTIONS" \
        --concurrency "$STREAM_CONNECTIONS" --messages "$STREAM_MESSAGES" --size "$STREAM_SIZE" \
        --window "$STREAM_WINDOW" --timeout-seconds "$TIMEOUT" || true)" ;;
      *) log "unknown workload $w"; continue ;;
    esac
    [[ "$line" == "{"* ]] || line='{"error":"load generator failed"}'
    echo "{\"target\":\"$t\",\"phase\":\"$w\",\"round\":$round,\"load\":\"$(uptime | sed 's/.*average: //')\",\"result\":$line}" >>"$raw"
  done
  [[ "$PROXY_PID" != 0 ]] && stop_pid "$PROXY_PID"
done
order="$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')"
done

if ((CAPACITY > 0)); then
  for t in $TARGETS; do
    [[ "$t" == direct ]] && continue
    log "capacity: $t, $CAPACITY idle connections for $IDLE_SECONDS s"
    if ! start_target "$t"; then
      echo "{\"target\":\"$t\",\"phase\":\"capacity\",\"error\":\"did not start\"}" >>"$raw"
      continue
    fi
    uri="ws://127.0.0.1:${PORT[$t]}/"
    # Warm-up for every target alike: some echoes, then the same number of connections opened and
    # closed once, so that the baseline already holds what a running proxy keeps after a busy
    # moment (buffer pools, young-generation pages a JVM has touched, worker threads); what grows
    # after it is what holding the connections costs.
    loadgen --uri "$uri" --connections 200 --concurrency 50 --messages 5 >/dev/null || true
    loadgen --uri "$uri" --connections "$CAPACITY" --concurrency 200 --messages 0 \
      --timeout-seconds 300 >/dev/null || true
    heap0=0 direct0=0
    rss2="" threads2=""
    if [[ "$PROXY_KIND" == jvm ]]; then
      heap0="$(jvm_heap_kib "$PROXY_PID")"
      direct0="$(jvm_direct_kib "$PROXY_PID")"
    fi
    threads0="$(thread_count "$PROXY_PID")"
    rss0="$(rss_kib "$PROXY_PID")"
    loadgen --uri "$uri" --connections "$CAPACITY" --concurrency 200 --messages 0 \
      --idle-seconds "$IDLE_SECONDS" --timeout-seconds 300 >"$work/capacity-$t.json" &
    gen=$!
    # Measure while every connection is open: the proxy then holds 2 descriptors per connection.
    deadline=$((SECONDS + 240))
    while (($(fd_count "$PROXY_PID") < 2 * CAPACITY)) && ((SECONDS < deadline)); do
      sleep 1
    done
    sleep 2
    heap1=0 direct1=0
    if [[ "$PROXY_KIND" == jvm ]]; then
      heap1="$(jvm_heap_kib "$PROXY_PID")"
      direct1="$(jvm_direct_kib "$PROXY_PID")"
    fi
    rss1="$(rss_kib "$PROXY_PID")"
    threads1="$(thread_count "$PROXY_PID")"
    # At the end of the hold, before the generator lets go.
    while [[ ! -s "$work/capacity-$t.json" ]] && kill -0 "$gen" 2>/dev/null; do
      rss2="$(rss_kib "$PROXY_PID")"
      threads2="$(thread_count "$PROXY_PID")"
      sleep 1
    done
    wait "$gen" || true
    line="$(tail -1 "$work/capacity-$t.json")"
    echo "{\"target\":\"$t\",\"phase\":\"capacity\",\"connections\":$CAPACITY,\"rssKiB\":[$rss0,$rss1,${rss2:-$rss1}],\"threads\":[$threads0,$threads1,${threads2:-$threads1}],\"heapKiB\":[$heap0,$heap1],\"directKiB\":[$direct0,$direct1],\"result\":${line:-null}}" >>"$raw"
    stop_pid "$PROXY_PID"
  done
fi

python3 "$here/proxy-report.py" "$raw" \
  "$(nproc) cores, $(java -version 2>&1 | head -1), $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3)" \
  "CONNECTIONS=$CONNECTIONS CONCURRENCY=$CONCURRENCY MESSAGES=$MESSAGES SIZE=$SIZE STREAM_CONNECTIONS=$STREAM_CONNECTIONS STREAM_MESSAGES=$STREAM_MESSAGES STREAM_SIZE=$STREAM_SIZE STREAM_WINDOW=$STREAM_WINDOW ROUNDS=$ROUNDS NETTY_THREADS=$NETTY_THREADS CAPACITY=$CAPACITY IDLE_SECONDS=$IDLE_SECONDS" \
  | tee "$report"
log "report: $report (raw: $raw)"
