#!/usr/bin/env bash
# npm run bench:reload: does a reload stall requests? The built service with 20,000 tenants, in
# the bench's production settings, under wrk (-c50, --latency): rounds of steady load alternate
# with rounds during which the config changes and is reloaded (SIGHUP) every second. Prints, per
# kind of round, the medians of the p99 and of the slowest request, and the ratio the target
# reads: slowest request during reloads ÷ steady p99. BENCH_ROUNDS (5) and BENCH_SECONDS (5).
# Pins the service to CPU 0 and wrk to CPU 1 where taskset exists (the reload worker then shares
# the service's CPU); BENCH_SERVICE_CPUS changes the service's CPUs (e.g. 0-1).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "npm run bench:reload needs wrk: apt-get install wrk" >&2; exit 2; }
ROUNDS=${BENCH_ROUNDS:-5}
SECONDS_EACH=${BENCH_SECONDS:-5}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
if command -v taskset >/dev/null; then service_cpu=(taskset -c "${BENCH_SERVICE_CPUS:-0}"); load_cpu=(taskset -c 1); else service_cpu=(); load_cpu=(); fi

node -e '
const intune = { intune: { tenantId: "6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a" } };
const tenants = Array.from({ length: 20000 }, (_, i) => ({ name: `t${i}`, domains: [`t${i}.example`], enroll: intune }));
require("fs").writeFileSync(process.argv[1], JSON.stringify({ tenants }));
' "$work/config.json"
port=$((34000 + RANDOM % 2000))
PORT=$port ADMIN_PORT=off LOG_LEVEL=info LOG_FORMAT=json TRUST_PROXY=127.0.0.1 WATCH_CONFIG=false \
  MDM_DISCOVERY_CONFIG="$work/config.json" "${service_cpu[@]}" node dist/cli/index.js serve >"$work/service.log" 2>&1 &
pid=$!
query='/.well-known/com.apple.remotemanagement?user-identifier=joe@t500.example&model-family=iPhone'
until curl -sf -o /dev/null -H 'Host: t500.example' "http://127.0.0.1:$port$query"; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/service.log" >&2; exit 1; }
  sleep 0.1
done
ms() { awk '{ v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; printf "%.2f\n", v }'; }
run() { # prints "p99 max" in ms
  "${load_cpu[@]}" wrk -t1 -c50 -d"${1}s" --latency -s bench/random-client.lua -H 'Host: t500.example' \
    "http://127.0.0.1:$port$query" >"$work/wrk.txt"
  echo "$(awk '/^ +99%/ { print $2 }' "$work/wrk.txt" | ms) $(awk '/^ +Latency +[0-9]/ { print $4 }' "$work/wrk.txt" | ms)"
}
run 2 >/dev/null
for _ in $(seq "$ROUNDS"); do
  run "$SECONDS_EACH" >>"$work/steady"
  (
    for _ in $(seq $((SECONDS_EACH - 1))); do
      sleep 1
      sed -i "s/\"t0[a-z0-9]*\"/\"t0r$RANDOM\"/" "$work/config.json"
      kill -HUP "$pid"
    done
  ) &
  run "$SECONDS_EACH" >>"$work/reload"
  wait $!
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
steady_p99=$(cut -d' ' -f1 "$work/steady" | median)
steady_max=$(cut -d' ' -f2 "$work/steady" | median)
reload_p99=$(cut -d' ' -f1 "$work/reload" | median)
reload_max=$(cut -d' ' -f2 "$work/reload" | median)
echo "reloads taken: $(grep -c '"msg":"config reloaded"' "$work/service.log"), by the worker: $(grep -c '"thread":"worker"' "$work/service.log")"
echo "steady:         p99 $steady_p99 ms, slowest $steady_max ms (medians of $ROUNDS rounds of ${SECONDS_EACH} s)"
echo "during reloads: p99 $reload_p99 ms, slowest $reload_max ms"
awk -v a="$reload_max" -v b="$steady_p99" 'BEGIN { printf "slowest during reloads / steady p99 = %.1f\n", a / b }'
