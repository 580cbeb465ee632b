// The two shell scripts a deployment runs: the copy done by each init container, and the guard in front of the
// engine. Both run on the game's base image, so they use POSIX sh, `cp`, `chmod`, `rm` and `[` only (busybox has them); the
// copy of a chunked tree also needs `cat`, `sha256sum`, `ls`, `mv` and `mkdir` (coreutils or busybox), or
// runs the native assembler its image carries. The guard of a Fargate task uses `setpriv` where the image has it.

import { ASSEMBLY_WORKERS, chunkedCopyScript, dropSetIdBits, targetCheck } from './assemble-script.js';

export { ASSEMBLY_WORKERS, CHUNK_STORE } from './assemble-script.js';

/** Written last by a copy container into its target: present ⇒ the copy finished. */
export const COPY_SENTINEL = '.complete';
/**
 * Shipped by the build at the root of every tree image's tree (`<mount>/.gamelayer-tree`). An image volume that a
 * cluster dropped, mounted empty, or mounted without its subPath (containerd 2.1 ignores subPath) lacks it.
 * Defined once in the image stage.
 */
export { TREE_SENTINEL } from '../oci/sentinel.js';

/** Name given to `$0` of the guard script; what `ps` shows until the engine execs. */
export const GUARD_NAME = 'gamelayer-start';

/** Quotes a word for POSIX sh: single quotes, each embedded quote closed, escaped and reopened. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface CopyScriptOptions {
  /**
   * The tree is chunked (its image holds `.gamelayer-chunks/` instead of its big files): copy the rest, assemble
   * each big file from its chunks and verify it, then write the sentinel (src/k8s/assemble-script.ts).
   */
  chunked?: boolean;
  /** Files assembled at once (default ASSEMBLY_WORKERS). */
  workers?: number;
  /**
   * Use the native assembler when the image has one that runs (default true); false keeps to the sh path (for the
   * bench and tests, which compare both on the same image).
   */
  native?: boolean;
}

/**
 * Copies a tree from where its image keeps it to a shared volume, then writes the sentinel. A restarted init
 * container first removes a stale sentinel, so a half-finished earlier copy never looks complete.
 *
 * `cp -R -P`, not `cp -a`: as a non-root user, GNU `cp -a SRC/. DST/` fails on the volume's own root directory
 * (owned by root: "preserving times for 'DST/.': Operation not permitted", exit 1) and busybox prints one
 * "can't preserve ownership" line per file. What -a would add is nothing here: layer files are all uid 0 with
 * one fixed mtime, and -R keeps the permission bits (the executable bit is all a manifest keeps) and -P the links;
 * busybox's -R keeps setuid and setgid too when run as root, so a chmod pass clears them (dropSetIdBits).
 * `-f`: an init container restarted in the same pod copies over its own earlier copy, whose links busybox's cp will
 * not replace without it ("can't create '…': File exists", so the copy never completed); GNU's replaces them anyway.
 */
export function copyScript(tree: string, from: string, to: string, options: CopyScriptOptions = {}): string {
  if (options.chunked) return chunkedCopyScript(tree, from, to, COPY_SENTINEL, options.workers ?? ASSEMBLY_WORKERS, shellQuote, options.native ?? true);
  const src = shellQuote(from);
  const dst = shellQuote(to);
  const sentinel = shellQuote(`${to}/${COPY_SENTINEL}`);
  return [
    'set -eu',
    `rm -f ${sentinel}`,
    // A copy that stops early leaves no sentinel, not even one the tree image held (a damaged or hostile image).
    `gl_unfinished() { rm -f ${sentinel}; }`,
    'trap gl_unfinished EXIT',
    `if [ ! -d ${src} ]; then echo "gamelayer: ${tree}: "${src}" is missing from this image" >&2; exit 1; fi`,
    targetCheck(`gamelayer: ${tree}:`, dst),
    // -f: a restarted copy (same emptyDir) meets the links it copied before; busybox cp fails on those without it.
    `cp -R -P -f ${shellQuote(`${from}/.`)} ${shellQuote(`${to}/`)}`,
    dropSetIdBits(`gamelayer: ${tree}:`, to, shellQuote),
    // A link the tree held under the sentinel's name is replaced, never written through.
    `rm -f ${sentinel}`,
    'trap - EXIT',
    `: > ${sentinel}`,
    `echo "gamelayer: ${tree}: copied to "${dst}`,
    '',
  ].join('\n');
}

/** Said on stderr by a guard asked to set no-new-privileges in an image without setpriv. */
const NO_SETPRIV_WARNING = 'gamelayer: no-new-privileges could not be set: this image has no setpriv (util-linux or busybox); the engine runs without it';

export interface GuardScriptOptions {
  /**
   * Exec the start command through `setpriv --no-new-privs --` where the image has setpriv (util-linux 2.38 and
   * busybox 1.35 both take that form), for a runtime that cannot set it itself: Fargate refuses dockerSecurityOptions.
   * Without setpriv the guard says so in one line and starts the engine anyway.
   */
  noNewPrivileges?: boolean;
}

/**
 * Checks every sentinel, reports all missing ones, and only then execs the start command passed as arguments
 * (`sh -c SCRIPT gamelayer-start ARGV...`), so the engine is PID 1's only successor and gets signals directly.
 */
export function guardScript(sentinels: readonly string[], options: GuardScriptOptions = {}): string {
  const lines = ['set -eu', 'missing=0'];
  for (const file of sentinels) {
    const f = shellQuote(file);
    lines.push(`if [ ! -f ${f} ]; then echo "gamelayer: refusing to start: "${f}" is missing" >&2; missing=1; fi`);
  }
  lines.push(
    'if [ "$missing" != 0 ]; then',
    '  echo "gamelayer: a game tree was not copied or its volume was not mounted; see docs/deploy.md" >&2',
    '  exit 1',
    'fi',
    ...(options.noNewPrivileges
      ? ['if command -v setpriv >/dev/null 2>&1; then exec setpriv --no-new-privs -- "$@"; fi', `echo ${shellQuote(NO_SETPRIV_WARNING)} >&2`]
      : []),
    'exec "$@"',
    '',
  );
  return lines.join('\n');
}
