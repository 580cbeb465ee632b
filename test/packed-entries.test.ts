// Issue 17 item 2: the packed entry store (src/entries/packed-entries.ts) holds a tree's entries in columns. Whatever
// is put in must come out as the same entries, sort into the manifest's order and hash to the manifest's digest,
// for every kind of path (code point order, long names, root-level names, links, empty folders), at about a third
// of an object's bytes.
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entriesDigest, sortEntries } from '../src/scan/manifest.js';
import { PackedEntries, encodePacked, packedDigest } from '../src/entries/packed-entries.js';
import { encodeEntry } from '../src/scan/manifest.js';
import { scanTree } from '../src/scan/scan.js';
import type { FileEntry } from '../src/types.js';
import { tempDir } from './support/tmp.js';
import { shuffled } from './support/prng.js';

async function tree(root: string): Promise<void> {
  const long = 'n'.repeat(120);
  for (const d of ['ünïcødé/日本語', `${long}/${'m'.repeat(100)}`, 'empty/nested', 'a-b', 'a']) await mkdir(path.join(root, d), { recursive: true });
  await writeFile(path.join(root, 'ünïcødé/日本語/😀 emoji.txt'), 'emoji\n');
  await writeFile(path.join(root, 'ünïcødé/日本語/\uFF21 fullwidth.txt'), 'fullwidth\n');
  await writeFile(path.join(root, 'ünïcødé/q"uo\\te'), 'quote\n');
  await writeFile(path.join(root, long, 'm'.repeat(100), 'f'.repeat(240)), 'long\n');
  await writeFile(path.join(root, 'a/x'), '');
  await writeFile(path.join(root, 'a-b/x'), 'x\n');
  await writeFile(path.join(root, 'top'), '');
  await writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await symlink('ünïcødé/q"uo\\te', path.join(root, 'link'));
  await symlink('../nowhere', path.join(root, 'empty', 'dangling'));
  execFileSync('find', [root, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
}

describe('packed entry store', () => {
  it('gives back the scan\'s entries, their order and the manifest digest', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await tree(root);
    const { manifest } = await scanTree('app', root, { include: ['**'], exclude: [] }, { stateDir: path.join(dir, 's') });
    const packed = PackedEntries.from(manifest.entries);
    expect(packed.length).toBe(manifest.entries.length);
    for (let i = 0; i < packed.length; i++) {
      expect(packed.entry(i)).toEqual(manifest.entries[i]);
      expect(encodePacked(packed, i)).toBe(encodeEntry(manifest.entries[i]!));
    }
    expect(packedDigest(packed)).toBe(manifest.digest);
    expect(packed.linkTarget(manifest.entries.findIndex((e) => e.path === 'link'))).toBe('ünïcødé/q"uo\\te');
    // Put in any order, sorted into the manifest's (the emoji after U+FF21; 'a-b/x' before 'a/x').
    for (const seed of [1, 7, 42]) {
      const sorted = PackedEntries.from(shuffled(manifest.entries, seed)).sorted();
      expect(Array.from({ length: sorted.length }, (_, i) => sorted.entry(i))).toEqual(manifest.entries);
      expect(packedDigest(sorted)).toBe(manifest.digest);
    }
  });

  it('holds pending marks and takes hashes filled later', () => {
    const entries: FileEntry[] = [
      { path: 'd/a', type: 'file', mode: 0o644, size: 3, xxh64: '~12' },
      { path: 'd/b', type: 'file', mode: 0o644, size: 0, xxh64: '' },
      { path: 'd', type: 'dir', mode: 0o755, size: 0 },
    ];
    const packed = PackedEntries.from(entries);
    expect([0, 1, 2].map((i) => packed.xxh64(i))).toEqual(['~12', '', undefined]);
    packed.setXxh64(0, '00000000000000ff');
    expect(packed.xxh64(0)).toBe('00000000000000ff');
    expect(packed.entry(0)).toEqual({ ...entries[0], xxh64: '00000000000000ff' });
    expect(packedDigest(packed)).toBe(entriesDigest([{ ...entries[0]!, xxh64: '00000000000000ff' }, entries[1]!, entries[2]!]));
    expect(sortEntries(entries).map((e) => e.path)).toEqual(Array.from({ length: 3 }, (_, i) => packed.sorted().path(i)));
  });

  it('tells a path by its bytes (pathIs), and reads every pending entry as the one mark it is given', () => {
    const entries: FileEntry[] = [
      { path: 'a', type: 'dir', mode: 0o755, size: 0 },
      { path: 'a/x', type: 'file', mode: 0o644, size: 0, xxh64: '' },
      { path: 'a-b/x', type: 'file', mode: 0o644, size: 0, xxh64: '' },
      { path: 'ünï/日本', type: 'file', mode: 0o644, size: 1, xxh64: 'ef46db3751d8e999' },
      { path: 'top', type: 'file', mode: 0o644, size: 1, xxh64: 'ef46db3751d8e999' },
    ];
    const packed = PackedEntries.from(entries);
    for (let i = 0; i < entries.length; i++) {
      for (let j = 0; j < entries.length; j++) expect(packed.pathIs(i, entries[j]!.path), `${i} ${entries[j]!.path}`).toBe(i === j);
    }
    for (const other of ['a/', 'a/xy', 'a/X', 'ab/x', 'a-b', 'ünï/日', 'ünï/日本x', 'to', 'topp', '']) {
      expect(entries.some((_, i) => packed.pathIs(i, other)), other).toBe(false);
    }
    packed.pendingMark = '~7';
    expect([1, 2].map((i) => packed.xxh64(i))).toEqual(['~7', '~7']);
    // A hash set after the mark (the layer writer's fill) is the hash, also when it is the last one read.
    expect(packed.xxh64(3)).toBe('ef46db3751d8e999');
    packed.setXxh64(1, 'ef46db3751d8e999');
    packed.setXxh64(2, '0000000000000001');
    expect([1, 2, 4].map((i) => packed.xxh64(i))).toEqual(['ef46db3751d8e999', '0000000000000001', 'ef46db3751d8e999']);
    expect(packed.hasPending()).toBe(false);
  });

  it('sorts paths of folders that start one another as the manifest does (prefix then name, across folders)', () => {
    // Names from pieces that order differently as bytes, UTF-16 and per folder: '-' and '.' sort before '/', 'é'
    // after ASCII, the emoji (a surrogate pair) after U+FF21; folders nested in one another and at the root.
    const pieces = ['a', 'a-b', 'a.b', 'ab', 'b', 'é', '\uFF21', '😀', 'a/b', 'a/b-c', 'a-b/c'];
    const paths = new Set<string>();
    let seed = 7;
    // The LCG's high bits: its low ones repeat with a short period.
    const next = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
    while (paths.size < 2000) paths.add(Array.from({ length: 1 + next(4) }, () => pieces[next(pieces.length)]!).join('/'));
    const entries: FileEntry[] = [...paths].map((p) => ({ path: p, type: 'file', mode: 0o644, size: 0, xxh64: 'ef46db3751d8e999' }));
    const expected = sortEntries(entries).map((e) => e.path);
    for (const order of [1, 2, 3]) {
      const packed = PackedEntries.from(shuffled(entries, order));
      expect(Array.from(packed.sortOrder(), (i) => packed.path(i))).toEqual(expected);
    }
  });

  it('hashes to the digest of its objects, names written as bytes or escaped, across the hash\'s chunks', () => {
    const names = ['plain', 'q"uote', 'back\\slash', 'tab\there', 'del\u007f', 'ünï', '😀', 'x'.repeat(255)];
    const entries: FileEntry[] = [{ path: 'd', type: 'dir', mode: 0o755, size: 0 }];
    for (let i = 0; i < 6000; i++) {
      const name = `${names[i % names.length]}${i}`;
      const at = i % 3 === 0 ? name : `d/${name}`;
      if (i % 97 === 0) entries.push({ path: at, type: 'symlink', mode: 0o777, size: 0, linkTarget: `../"${name}` });
      else entries.push({ path: at, type: 'file', mode: i % 5 ? 0o644 : 0o755, size: i % 7 ? i * 1000 : 0, xxh64: i % 11 === 0 ? '~4' : i % 13 === 0 ? 'not-hex' : (i % 4).toString(16).padStart(16, '0') });
    }
    const packed = PackedEntries.from(entries);
    packed.pendingMark = '~4';
    expect(packedDigest(packed)).toBe(entriesDigest(entries));
    for (let i = 0; i < entries.length; i += 101) expect(encodePacked(packed, i)).toBe(encodeEntry(entries[i]!));
  });

  it('holds the bench\'s 100k empty-file entries in under 40 bytes each', () => {
    const entries: FileEntry[] = [];
    for (let i = 0; i < 100_000; i++) {
      entries.push({ path: `d${String(Math.floor(i / 1000)).padStart(4, '0')}/f${i}`, type: 'file', mode: 0o644, size: 0, xxh64: 'ef46db3751d8e999' });
    }
    const packed = PackedEntries.from(entries);
    expect(packed.columnBytes / packed.length).toBeLessThan(40);
    expect(packed.entry(99_999)).toEqual(entries[99_999]);
  });
});
