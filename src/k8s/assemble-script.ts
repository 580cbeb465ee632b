// The init copy of a chunked tree (issue 20, docs/deploy.md "Chunked trees"): copy the tree without its chunk
// store, then write each big file from its chunks, verify it against its recipe, and only then write the sentinel.
// Runs on the game's base image like the plain copy: POSIX sh plus cat, sha256sum, ls, chmod, mv, mkdir (coreutils
// or busybox); `openssl dgst` hashes instead when the image has it (SHA-NI: several times busybox's sha256sum).
// A chunked tree image built by gamelayer carries the native assembler (native/, src/oci/assembler.ts): when it
// answers --probe, it does step 2 instead of the sh loop, with the same checks and the same messages.

import { ASSEMBLY_TMP_SUFFIX } from '../chunk/recipe.js';
import { ASSEMBLER_PATH, ASSEMBLER_PROBE } from '../oci/assembler.js';

/** Folder of a chunked tree that holds chunks (`c/<hh>/<sha256>`) and recipes (`r/<path>`). Never copied as is. */
export const CHUNK_STORE = '.gamelayer-chunks';
/** The only recipe format this script reads (first line of every recipe). */
export const RECIPE_MAGIC = 'gamelayer-recipe 1';
/**
 * Files assembled at once. Hashing is the cost (busybox's sha256sum: ≈ 200 MB/s a core here): two at a time keep
 * two cores busy; cat and sha256sum stream, so memory stays a few buffers per file (peak RSS ≈ 2 MiB in the bench).
 */
export const ASSEMBLY_WORKERS = 2;
/** Chunk paths handed to one `cat`: about 17 KB of arguments, far below any ARG_MAX. */
const CHUNKS_PER_CAT = 256;

type Quote = (word: string) => string;

/**
 * The copy's target must be a folder this user can write: its volume. Without the check a volume left out of the
 * spec (or one the copy's user cannot write) showed only cp's own lines, one per entry, naming no tree and no cause.
 */
export function targetCheck(tag: string, dst: string): string {
  return (
    `if [ ! -d ${dst} ] || [ ! -w ${dst} ]; then echo "${tag} "${dst}" is not a folder this user can write: ` +
    `is the tree's volume mounted there, and writable by uid $(id -u 2>/dev/null || echo ?)?" >&2; exit 1; fi`
  );
}

/**
 * Clears the setuid and setgid bits of everything a copy put at the top of `dst` and below (links neither followed
 * nor changed; the volume's own folder kept as the kubelet made it). The scan records only 755 and 644, so such a bit
 * comes from a damaged or hostile image (or a base image's files under the mount), and busybox's `cp -R` running as
 * root (ECS's copies, `--uid 0`) keeps it: a setuid-root file on the volume the engine mounts. Each top-level entry
 * that is not a link is named to `chmod -R`, which follows a link only when named and never below.
 */
export function dropSetIdBits(tag: string, dst: string, quote: Quote): string {
  const under = quote(`${dst}/`);
  return `for e in ${under}* ${under}.[!.]* ${under}..?*; do
  if [ -L "$e" ] || [ ! -e "$e" ]; then continue; fi
  chmod -R u-s,g-s "$e" || { echo "${tag} cannot clear setuid/setgid bits under "$e": is it this user's copy?" >&2; exit 1; }
done`;
}

/**
 * The script. `from` and `to` are absolute paths (mount path and copy target); `quote` is the shell quoting of
 * scripts.ts. A missing or damaged chunk, a short file or an unknown recipe format stops the copy with a message
 * naming the file (and the chunk), removes the file's temporary, and leaves no sentinel.
 */
export function chunkedCopyScript(tree: string, from: string, to: string, sentinel: string, workers: number, quote: Quote, native = true): string {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`assembly workers: expected a whole number ≥ 1, got ${workers}`);
  const src = quote(from);
  const dst = quote(to);
  const sent = quote(`${to}/${sentinel}`);
  const store = quote(`${from}/${CHUNK_STORE}`);
  const tag = `gamelayer: ${tree}:`;
  return `set -eu
rm -f ${sent}
# A copy that stops early leaves no sentinel, not even one the tree image held (a damaged or hostile image).
gl_unfinished() { rm -f ${sent}; }
trap gl_unfinished EXIT
if [ ! -d ${src} ]; then echo "${tag} "${src}" is missing from this image" >&2; exit 1; fi
${targetCheck(tag, dst)}
# 1. The tree without its chunk store, as the plain copy does it (cp -R -P: modes and links kept; -f: links a
# restarted copy made before are replaced, where busybox's cp fails without it).
set -- ${quote(`${from}/`)}*
if [ "$#" -gt 500 ]; then
  for e in "$@"; do cp -R -P -f "$e" ${quote(`${to}/`)}; done
elif [ -e "$1" ] || [ -L "$1" ]; then
  cp -R -P -f "$@" ${quote(`${to}/`)}
fi
for e in ${quote(`${from}/`)}.[!.]* ${quote(`${from}/`)}..?*; do
  if [ "$e" = ${store} ] || { [ ! -e "$e" ] && [ ! -L "$e" ]; }; then continue; fi
  cp -R -P -f "$e" ${quote(`${to}/`)}
done
${dropSetIdBits(tag, to, quote)}
# 2. Each recipe's file from its chunks.
gl_c=${quote(`${from}/${CHUNK_STORE}/c`)}
gl_r=${quote(`${from}/${CHUNK_STORE}/r`)}
gl_dst=${dst}
gl_fail() { echo "${tag} $*" >&2; }
gl_hash() { sha256sum; }
if command -v openssl >/dev/null 2>&1 && [ "$(printf abc | openssl dgst -sha256 -r 2>/dev/null)" = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad *stdin' ]; then
  gl_hash() { openssl dgst -sha256 -r; }
fi
# Size from ls -ln (busybox's wc -c reads the whole file).
gl_size() { set -f; set -- $(ls -ln "$1" 2>/dev/null); echo "\${5:-none}"; }
# Every recipe, one path a line (a path with a newline is never chunked); links are not followed.
gl_walk() {
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    if [ -L "$e" ]; then continue; fi
    if [ -d "$e" ]; then gl_walk "$e"; elif [ -f "$e" ]; then printf '%s\\n' "$e"; fi
  done
}
# After a size or hash mismatch: name the first chunk that is not what the recipe says.
gl_diagnose() {
  exec 3<"$1"
  while IFS= read -r line <&3 && [ -n "$line" ]; do :; done
  n=0
  while IFS=' ' read -r h s extra <&3; do
    n=$((n + 1))
    c=\${h%"\${h#??}"}/$h
    b=$(gl_size "$c")
    if [ "$b" != "$s" ]; then gl_fail "$gl_where: chunk $n ($h) has $b bytes, the recipe says $s: $gl_c/$c is damaged"; exec 3<&-; return; fi
    x=$(gl_hash <"$c"); x=\${x%% *}
    if [ "$x" != "$h" ]; then gl_fail "$gl_where: chunk $n ($h): its bytes hash to $x: $gl_c/$c is damaged"; exec 3<&-; return; fi
  done
  exec 3<&-
  if [ "$gl_have" = none ]; then gl_fail "$gl_where: cannot create $gl_tmp"; return; fi
  if [ "$gl_have" != "$size" ]; then gl_fail "$gl_where: only $gl_have of $size bytes reached $gl_tmp, yet every chunk is sound: is the volume full?"; return; fi
  gl_fail "$gl_where: assembled $gl_have bytes with sha256 $gl_got, the recipe says $size bytes and $sum, yet every chunk matches its name: the recipe is wrong"
}
gl_file() {
  gl_rel=\${1#"$gl_r/"}
  gl_out=$gl_dst/$gl_rel
  gl_tmp=$gl_out${ASSEMBLY_TMP_SUFFIX}
  gl_where="$gl_rel (recipe $1)"
  exec 3<"$1"
  IFS= read -r line <&3 || line=
  if [ "$line" != '${RECIPE_MAGIC}' ]; then
    gl_fail "$gl_where: unknown recipe format \\"$line\\": this copy reads \\"${RECIPE_MAGIC}\\" (an image of a newer gamelayer?)"; return 1
  fi
  size= mode= sum=
  while IFS=' ' read -r key value <&3 && [ -n "$key" ]; do
    case $key in size) size=$value ;; mode) mode=$value ;; sha256) sum=$value ;; esac
  done
  case $size in ''|*[!0-9]*|0?*) gl_fail "$gl_where: size \\"$size\\": expected a byte count"; return 1 ;; esac
  # The scan records only these two: a setuid, setgid or sticky mode is a hostile image's (docs/chunks.md).
  case $mode in 755|644) ;; *) gl_fail "$gl_where: mode \\"$mode\\": expected 755 or 644 (the modes gamelayer records)"; return 1 ;; esac
  case $sum in *[!0-9a-f]*) sum= ;; esac
  if [ "\${#sum}" != 64 ]; then gl_fail "$gl_where: sha256: expected 64 lower-case hex digits"; return 1; fi
  n=0 total=0 k=0 batch= batches=
  while IFS=' ' read -r h s extra <&3 || [ -n "$h" ]; do
    n=$((n + 1))
    case $h in *[!0-9a-f]*) h= ;; esac
    case $s in ''|*[!0-9]*|0*) s= ;; esac
    if [ "\${#h}" != 64 ] || [ -z "$s" ] || [ -n "$extra" ]; then gl_fail "$gl_where: chunk line $n: expected <64 hex digits of sha256> <size>"; return 1; fi
    c=\${h%"\${h#??}"}/$h
    if [ ! -f "$c" ]; then gl_fail "$gl_where: chunk $n ($h) is missing: no $gl_c/$c in this image"; return 1; fi
    total=$((total + s))
    batch="$batch $c"
    k=$((k + 1))
    if [ "$k" = ${CHUNKS_PER_CAT} ]; then batches="$batches$batch
"; batch= k=0; fi
  done
  exec 3<&-
  batches=$batches$batch
  if [ "$total" != "$size" ]; then gl_fail "$gl_where: its $n chunks sum to $total bytes, its size is $size"; return 1; fi
  # Folders below the target made one by one, none a link: a damaged or hostile image whose copied tree holds a link
  # where the file's folder should be must not have the copy write through it, outside the volume.
  d=$gl_dst gl_rest=$gl_rel
  while :; do
    case $gl_rest in */*) ;; *) break ;; esac
    d=$d/\${gl_rest%%/*} gl_rest=\${gl_rest#*/}
    if [ -L "$d" ]; then gl_fail "$gl_where: \${d#"$gl_dst/"} is a link in the copied tree, not a folder: refusing to write through it"; return 1; fi
    if [ ! -d "$d" ]; then mkdir "$d" || { gl_fail "$gl_where: cannot create $d"; return 1; }; fi
  done
  # A link where the file or its temporary goes is removed, never written or moved through; a folder there is refused.
  if [ -L "$gl_out" ]; then rm -f "$gl_out"; elif [ -d "$gl_out" ]; then gl_fail "$gl_where: $gl_out is a folder in the copied tree"; return 1; fi
  rm -f "$gl_tmp" 2>/dev/null || :
  # Write, then hash what was written: cheaper in CPU, the binding cost, than hashing in a pipe beside the write
  # (busybox's tee moves 1 KiB per read; a second cat of each batch into the hash's pipe costs a third more CPU
  # here). The file is read back from the page cache; under a copy memory limit below the file's size, partly from
  # disk. Chunk paths are relative and blank-free: split on IFS.
  gl_got=
  (IFS='
'; for b in $batches; do IFS=' '; cat $b || exit 1; done) >"$gl_tmp" || :
  gl_have=$(gl_size "$gl_tmp")
  if [ "$gl_have" = "$size" ]; then gl_got=$(gl_hash <"$gl_tmp") || gl_got=; gl_got=\${gl_got%% *}; fi
  if [ "$gl_have" != "$size" ] || [ "$gl_got" != "$sum" ]; then rm -f "$gl_tmp"; gl_diagnose "$1"; return 1; fi
  if ! chmod "$mode" "$gl_tmp" || ! mv -f "$gl_tmp" "$gl_out"; then rm -f "$gl_tmp"; gl_fail "$gl_where: cannot put $gl_out in place"; return 1; fi
}
# Worker $1 of ${workers} assembles every ${workers}th recipe; chunk paths are relative to the chunk folder.
gl_worker() {
  cd "$gl_c" || { gl_fail "recipes but no chunk folder $gl_c in this image"; return 1; }
  gl_walk "$gl_r" | {
    i=0
    while IFS= read -r recipe; do
      if [ $((i % ${workers})) = "$1" ]; then gl_file "$recipe" || exit 1; fi
      i=$((i + 1))
    done
  }
}
gl_native=${native ? quote(`${from}/${ASSEMBLER_PATH}`) : "''"}
# The native assembler, when the image has one that runs here (right platform, hash self-test passed).
if [ -d "$gl_r" ] && [ -n "$gl_native" ] && [ -f "$gl_native" ]; then
  gl_probe=$("$gl_native" --probe 2>/dev/null) || gl_probe=
  case $gl_probe in '${ASSEMBLER_PROBE} '*) ;; *) gl_native= ;; esac
else
  gl_native=
fi
if [ -n "$gl_native" ]; then
  echo "${tag} assembling with the native assembler ($gl_probe)"
  if ! "$gl_native" ${quote(tree)} ${store} "$gl_dst" ${workers}; then
    echo "${tag} a file could not be assembled from its chunks: "${dst}" is incomplete and gets no ${sentinel}" >&2; exit 1
  fi
elif [ -d "$gl_r" ]; then
  gl_pids=
  gl_i=0
  while [ "$gl_i" -lt ${workers} ]; do
    gl_worker "$gl_i" &
    gl_pids="$gl_pids $!"
    gl_i=$((gl_i + 1))
  done
  gl_failed=0
  for gl_p in $gl_pids; do wait "$gl_p" || gl_failed=1; done
  if [ "$gl_failed" != 0 ]; then echo "${tag} a file could not be assembled from its chunks: "${dst}" is incomplete and gets no ${sentinel}" >&2; exit 1; fi
fi
# 3. Only now is the tree complete (a link the tree held under the sentinel's name is replaced, not written through).
rm -f ${sent}
trap - EXIT
: > ${sent}
echo "${tag} copied to "${dst}", big files assembled from their chunks"
`;
}
