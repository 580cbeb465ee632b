#!/usr/bin/env bash
# The small-game trial (docs/compaction.md, "Thirteenth round") through the CLI: the sample game grown to about
# 45 MiB with incompressible files, built and pushed to a local registry on a fresh host each day (no store, no
# record left on disk), then one 5 MiB file renamed and pushed again. Prints the bytes each push sent.
#   bash bench/small-rename.sh        (needs docker-registry; run `npm run build` first)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
PORT=${PORT:-5077}
trap 'kill "$REG" 2>/dev/null || true; rm -rf "$W"' EXIT
cat > "$W/reg.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $W/regdata
http:
  addr: 127.0.0.1:$PORT
log:
  level: error
YML
docker-registry serve "$W/reg.yml" > "$W/reg.log" 2>&1 &
REG=$!
sleep 1
cp -r "$ROOT/fixtures/sample-game" "$W/game"
cd "$W/game"
rm -rf .gamelayer
mib() { head -c $(($2 * 1024 * 1024)) /dev/urandom > "$1"; }
for i in 1 2 3 4 5 6; do mib "app-media/levels/big$i.pak" 5; done
mib engine-media/Engine/big.pak 6
mib engine-media/Shaders/sh.pak 2
mib app/bin/libBig.so 3
mib app-media/audio/music.ogg 3
day() {
  rm -rf "$W/store" .gamelayer
  node "$ROOT/bin/gamelayer.js" build --store "$W/store" -t "$1" --push "127.0.0.1:$PORT/studio/small" 2>&1 \
    | grep -E '^(app|engine)[a-z-]*: |sent \(the build record'
}
echo "day 0: first build ($(du -sh --apparent-size . | cut -f1))"
day v0
echo "day 1: levels/big3.pak renamed (5 MiB), checksums.sha256 edited"
mv app-media/levels/big3.pak app-media/levels/forest/big3.pak
echo "0000  app-media/levels/forest/big3.pak" >> app/checksums.sha256
day v1
echo "day 2: levels/big5.pak removed (5 MiB), checksums.sha256 edited"
rm app-media/levels/big5.pak
echo "0001  removed" >> app/checksums.sha256
day v2
