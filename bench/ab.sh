#!/usr/bin/env bash
# npm run bench:ab -- REV_A REV_B: what one change bought. Builds two git revisions side by side
# and measures each in the bench's production settings (1 tenant, info log to a file, metrics,
# rate limit, random forwarded clients), alternating A B A B … so drift hits both; prints the
# medians and B ÷ A. Needs wrk and curl; pins with taskset where it exists. BENCH_ROUNDS (3) and
# BENCH_SECONDS (5) as for npm run bench; BENCH_TENANTS (1) tenants in the config.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: npm run bench:ab -- REV_A REV_B" >&2; exit 2; }
command -v wrk >/dev/null || { echo "npm run bench:ab needs wrk: apt-get install wrk" >&2; exit 2; }
ROUNDS=${BENCH_ROUNDS:-3}
SECONDS_EACH=${BENCH_SECONDS:-5}
root=$(pwd)
work=$(mktemp -d)
trap 'for d in "$work"/rev-*; do git -C "$root" worktree remove --force "$d" 2>/dev/null || true; done; rm -rf "$work"' EXIT
# Prefixes that pin to one CPU; the service is started through its prefix directly, so that $! is
# the service itself and kill reaches it.
if command -v taskset >/dev/null; then service_cpu=(taskset -c 0); load_cpu=(taskset -c 1); else service_cpu=(); load_cpu=(); fi

build() { # $1 revision -> prints the checkout's folder
  local dir="$work/rev-$(git rev-parse --short "$1")"
  git worktree add --detach --quiet "$dir" "$1"
  ln -s "$root/node_modules" "$dir/node_modules"
  (cd "$dir" && node_modules/.bin/tsc -p tsconfig.build.json) >&2
  echo "$dir"
}

query='/.well-known/com.apple.remotemanagement?user-identifier=joe@contoso.example&model-family=iPhone'
config="$work/tenants.json"
# BENCH_TENANTS (1): contoso, asked by every request, and as many other tenants as it takes.
node -e '
  const n = Number(process.argv[1]);
  const tenant = (name, domain) => ({ name, domains: [domain], enroll: { intune: { tenantId: "6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a" } } });
  const tenants = [tenant("contoso", "contoso.example")];
  for (let i = 1; i < n; i++) tenants.push(tenant(`t${i}`, `t${i}.example`));
  process.stdout.write(JSON.stringify({ tenants }));
' "${BENCH_TENANTS:-1}" >"$config"

measure() { # $1 checkout -> prints requests/s
  local port=$((32000 + RANDOM % 2000))
  PORT=$port ADMIN_PORT=$((port + 1)) LOG_LEVEL=info LOG_FORMAT=json TRUST_PROXY=127.0.0.1 \
    WATCH_CONFIG=false MDM_DISCOVERY_CONFIG="$config" \
    "${service_cpu[@]}" node "$1/dist/cli/index.js" serve >"$work/service.log" 2>&1 &
  local pid=$!
  until curl -sf -o /dev/null -H 'Host: contoso.example' "http://127.0.0.1:$port$query"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/service.log" >&2; exit 1; }
    sleep 0.05
  done
  "${load_cpu[@]}" wrk -t1 -c50 -d2s -s bench/random-client.lua -H 'Host: contoso.example' "http://127.0.0.1:$port$query" >/dev/null
  "${load_cpu[@]}" wrk -t1 -c50 -d"${SECONDS_EACH}s" -s bench/random-client.lua -H 'Host: contoso.example' \
    "http://127.0.0.1:$port$query" | awk '/Requests\/sec/ { print $2 }'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

a=$(build "$1")
b=$(build "$2")
: >"$work/a"
: >"$work/b"
for _ in $(seq "$ROUNDS"); do
  measure "$a" >>"$work/a"
  measure "$b" >>"$work/b"
done
ma=$(median <"$work/a")
mb=$(median <"$work/b")
echo "A $1: $(paste -sd' ' "$work/a") req/s, median $ma"
echo "B $2: $(paste -sd' ' "$work/b") req/s, median $mb"
awk -v a="$ma" -v b="$mb" 'BEGIN { printf "B / A = %.2f\n", b / a }'
