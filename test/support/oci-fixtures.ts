// Small game-like trees for the OCI tests, and their FileEntry lists from the real scan stage;
// content is deterministic, modes/mtimes/umask are whatever the caller makes them.
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { scanTree } from '../../src/scan/scan.js';
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

/** FileEntry list of a tree (directory or tar/tar.gz) from the real scan stage. */
export async function scanEntries(source: string): Promise<FileEntry[]> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'oci-scan-state-'));
  try {
    const { manifest } = await scanTree('app', source, { include: ['**'], exclude: [] }, { stateDir });
    return manifest.entries;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
