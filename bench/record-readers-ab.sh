#!/usr/bin/env bash
# A/B of the commands that step through a large build record without parsing it whole (inspect, k8s, a no-op
# build): two gamelayer checkouts (dist/ built) on one game, interleaved, each run under /usr/bin/time.
# Usage: bench/record-readers-ab.sh GAME_DIR BEFORE_CHECKOUT AFTER_CHECKOUT [PAIRS=2]
# The game is built once beforehand (e.g. the 1M-empty-file game of `npm run bench -- many-files
# --many-files-empty 1000000`). Prints one line a run: command, checkout, wall s, user+sys s, max RSS MiB, and
# whether the output is the same bytes as the first checkout's (a build's timings taken out), then whether the
# record is the same bytes after the runs.
set -euo pipefail
game=$1 before=$2 after=$3 pairs=${4:-2}
out=$(mktemp -d)
run() { # name checkout args...
  local name=$1 co=$2; shift 2
  local tag; tag=$(basename "$co")
  ( cd "$game" && /usr/bin/time -f '%e %U %S %M' -o "$out/time" node "$co/bin/gamelayer.js" "$@" >"$out/$name-$tag.out" 2>"$out/$name-$tag.err" ) || echo "$name $tag: exit $? ($(tail -1 "$out/$name-$tag.err"))"
  read -r wall user sys rss < <(tail -1 "$out/time")
  # The build's line of timings ("scan 18.87s, total 26.29s (0.0 MB/s)") differs run to run.
  sed -i -E 's/scan [0-9.]+s, total [0-9.]+s \([0-9.]+ MB\/s\)/scan -, total -/' "$out/$name-$tag.out"
  local same=''
  [ -f "$out/$name-$(basename "$before").out" ] && { cmp -s "$out/$name-$(basename "$before").out" "$out/$name-$tag.out" && same=same || same=DIFFERENT; }
  printf '%-8s %-8s wall %6.2f s  cpu %6.2f s  rss %5d MiB  %s\n' "$name" "$tag" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))" "$same"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
record=$(sha256sum "$game/.gamelayer/records/build-last.json" | cut -d' ' -f1)
for ((p = 0; p < pairs; p++)); do
  for co in "$before" "$after"; do run inspect "$co" inspect; done
  # --repository: the game's config names no registry and its build was not pushed.
  for co in "$before" "$after"; do run k8s "$co" k8s --local --repository registry.example/game; done
  for co in "$before" "$after"; do run build "$co" build; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$(sha256sum "$game/.gamelayer/records/build-last.json" | cut -d' ' -f1)" = "$record" ] && echo "record: the same bytes" || echo "record: CHANGED"
rm -rf "$out"
