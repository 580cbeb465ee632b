#!/usr/bin/env bash
# Makes a fresh Debian machine ready for the tests: installs the real tools they use (only when missing)
# and starts a Docker engine when none answers. Idempotent; a no-op in well under a second when all is there.
set -euo pipefail

# command → Debian package providing it
declare -A NEEDED=(
  [dockerd]=docker.io
  [docker]=docker.io
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [busybox]=busybox-static
  [zstd]=zstd
  [pigz]=pigz
  [htpasswd]=apache2-utils
  [containerd]=containerd
  [ctr]=containerd
  [tmux]=tmux
  [kubectl]=kubernetes-client
  [openssl]=openssl
  [buildah]=buildah
  # scripts/build-native.sh (test/native-assemble.test.ts rebuilds the committed native assembler)
  [musl-gcc]=musl-tools
  [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
# busybox must be the static one: tests copy it into FROM-scratch images.
[ -x /bin/busybox ] && ldd /bin/busybox >/dev/null 2>&1 && missing+=(busybox-static)
# The arm64 cross build links glibc statically: its libc.a is a package of its own.
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || missing+=(libc6-dev-arm64-cross)
# Both builds of the native assembler compile in xxHash's header (its xxh64 check).
[ -e /usr/include/xxhash.h ] || missing+=(libxxhash-dev)

if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -ne 0 ]; then
    echo "services.sh: missing packages ${pkgs[*]} and not root; install them with: apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
  echo "services.sh: installing ${pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${pkgs[@]}" >&2
fi

docker_answers() { timeout 5 docker version >/dev/null 2>&1; }

if ! docker_answers; then
  # Serialise concurrent starters (two test runs at once) so only one dockerd is launched.
  exec 9>/tmp/gamelayer-dockerd.lock
  flock -w 60 9 || { echo "services.sh: could not take /tmp/gamelayer-dockerd.lock" >&2; exit 1; }
  if ! docker_answers; then
    if ! pgrep -x dockerd >/dev/null 2>&1; then
      echo "services.sh: starting dockerd (log: /tmp/dockerd.log)" >&2
      nohup dockerd > /tmp/dockerd.log 2>&1 &
    fi
    for _ in $(seq 1 60); do
      docker_answers && break
      sleep 1
    done
    if ! docker_answers; then
      echo "services.sh: the Docker engine did not answer within 60s; last lines of /tmp/dockerd.log:" >&2
      tail -n 20 /tmp/dockerd.log >&2 || true
      exit 1
    fi
  fi
fi

# Containers on the default network need the engine's docker0 bridge. A second engine on this host (the compare
# bench starts one) can take it down on its way out; the system engine recreates it when it starts again.
if [ ! -e /sys/class/net/docker0 ] && [ -f /var/run/docker.pid ]; then
  echo "services.sh: the docker0 bridge is gone; restarting dockerd (log: /tmp/dockerd.log)" >&2
  pid="$(cat /var/run/docker.pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  nohup dockerd > /tmp/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker_answers && [ -e /sys/class/net/docker0 ] && break
    sleep 1
  done
  if [ ! -e /sys/class/net/docker0 ]; then
    echo "services.sh: dockerd restarted but docker0 is still missing; last lines of /tmp/dockerd.log:" >&2
    tail -n 20 /tmp/dockerd.log >&2 || true
    exit 1
  fi
fi
