#!/usr/bin/env bash
# Builds native/bin/gamelayer-assemble-linux-{amd64,arm64} from native/*.c: static, stripped, reproducible (no
# build id, no paths or times in the output), so the committed binaries can be checked byte for byte against their
# source (test/native-assemble.test.ts runs `--check`).
#   linux/amd64: musl-gcc (Debian musl-tools), static musl: small.
#   linux/arm64: aarch64-linux-gnu-gcc (Debian gcc-aarch64-linux-gnu, libc6-dev-arm64-cross), static glibc
#                (Debian has no musl cross toolchain).
#   both:        xxhash.h from Debian libxxhash-dev (0.8.1 on bookworm), header-only (XXH_INLINE_ALL): its code is
#                compiled in, so another version of it may give other bytes.
# Usage: scripts/build-native.sh            rebuild into native/bin/ and print sizes and sha256s
#        scripts/build-native.sh --check    rebuild into a temporary folder; exit 1 if a committed binary differs
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = --check ] && check=1
out=native/bin
if [ "$check" = 1 ]; then out="$(mktemp -d)"; fi
mkdir -p "$out"

# Flags that decide the bytes: keep them fixed (a change here is a change of the committed binaries).
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -static -fno-ident -ffile-prefix-map="$PWD"=. -Wl,--build-id=none -s)
SOURCES=(native/assemble.c native/sha256.c)

# xxhash.h alone on the include path: /usr/include itself would put the host's libc headers before the cross
# compiler's and musl's own.
XXHASH_H=/usr/include/xxhash.h
if [ ! -e "$XXHASH_H" ]; then
  echo "build-native.sh: $XXHASH_H is missing (install libxxhash-dev with scripts/services.sh)" >&2
  exit 1
fi
inc="$(mktemp -d)"
trap 'rm -rf "$inc"; if [ "$check" = 1 ]; then rm -rf "$out"; fi' EXIT
ln -s "$XXHASH_H" "$inc/xxhash.h"

build() { # compiler, target name
  local cc="$1" name="$2"
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "build-native.sh: $cc is missing (install it with scripts/services.sh)" >&2
    return 1
  fi
  "$cc" "${CFLAGS[@]}" -I"$inc" -o "$out/$name" "${SOURCES[@]}"
}

build musl-gcc gamelayer-assemble-linux-amd64
build aarch64-linux-gnu-gcc gamelayer-assemble-linux-arm64

status=0
for f in "$out"/gamelayer-assemble-*; do
  name="$(basename "$f")"
  if [ "$check" = 1 ]; then
    if cmp -s "$f" "native/bin/$name"; then echo "$name: identical to the committed binary"
    else echo "build-native.sh: $name built from native/*.c differs from native/bin/$name (rebuild with scripts/build-native.sh and commit)" >&2; status=1; fi
  else
    echo "$name: $(stat -c %s "$f") bytes, sha256 $(sha256sum "$f" | cut -c1-64)"
  fi
done
exit "$status"
