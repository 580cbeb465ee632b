// Small game-like trees for the OCI tests, and a by-hand scan of them (FileEntry list) until the
// scan stage lands; content is deterministic, modes/mtimes/umask are whatever the caller makes them.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync, lstatSync, readdirSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { createXxh64 } from '../../src/scan/hash.js';
import { normalizeMode, sortEntries } from '../../src/scan/manifest.js';
import type { FileEntry } from '../../src/types.js';

/** Deterministic bytes that do not compress (like a .pak): sha256 in counter mode. */
export function noise(bytes: number, seed = 'x'): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0, o = 0; o < bytes; i++) {
    const h = createHash('sha256').update(`${seed}:${i}`).digest();
    o += h.copy(out, o);
  }
  return out;
}

export const LONG_DIR = `levels/${'very-long-directory-name-'.repeat(5)}x`;

/** Writes a small game tree under `root` with the given umask and mtime (seconds). */
export function writeGameTree(root: string, umask: number, mtime: number): void {
  const old = process.umask(umask);
  try {
    const file = (rel: string, content: string | Buffer, exec = false) => {
      const p = path.join(root, rel);
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, content);
      if (exec) chmodSync(p, 0o777 & ~umask);
    };
    file('bin/server', '#!/bin/sh\necho "server up"\n', true);
    file('config/game.cfg', 'max_players=64\nmap=de_test\n'.repeat(200));
    file('media/assets.pak', noise(3 << 20));
    file('media/intro.txt', 'welcome\n');
    file(`${LONG_DIR}/level-with-a-rather-long-file-name-that-needs-pax-or-prefix.bsp`, 'lvl'.repeat(1000));
    file('config/héros-ünïcode.cfg', 'name=hero\n');
    file('empty.dat', '');
    mkdirSync(path.join(root, 'logs'), { recursive: true });
    symlinkSync('../media/intro.txt', path.join(root, 'config/intro-link'));
    symlinkSync('bin/server', path.join(root, 'start'));
    // Touch everything (links too would need lutimes; their mtime never reaches the tar anyway).
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n);
        const st = lstatSync(p);
        if (st.isDirectory()) walk(p);
        if (!st.isSymbolicLink()) utimesSync(p, mtime, mtime);
      }
    };
    walk(root);
  } finally {
    process.umask(old);
  }
}

/** FileEntry list of a directory, as the scan would produce it (normalised modes, xxh64, sorted). */
export async function scanByHand(root: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const walk = async (rel: string) => {
    for (const n of readdirSync(path.join(root, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(path.join(root, r));
      if (st.isDirectory()) {
        out.push({ path: r, type: 'dir', mode: normalizeMode('dir', st.mode), size: 0 });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        out.push({ path: r, type: 'symlink', mode: 0o777, size: 0, linkTarget: readlinkSync(path.join(root, r)) });
      } else {
        const h = await createXxh64();
        h.update(readFileSync(path.join(root, r)));
        out.push({ path: r, type: 'file', mode: normalizeMode('file', st.mode), size: st.size, xxh64: h.digest() });
      }
    }
  };
  await walk('');
  return sortEntries(out);
}
