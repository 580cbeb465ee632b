// The assembling copy run on this host with each shell and tool set a base image may have: dash with GNU coreutils
// and openssl (the fast hasher), dash with GNU coreutils only, and busybox alone. Each gets a PATH holding only the
// tools it may use, so a script that needs anything else fails here.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COPY_SENTINEL, copyScript } from '../src/k8s/scripts.js';
import { addNativeAssembler, chunkPath, writeChunkedTree, type ChunkedTree } from './support/chunked-tree.js';
import { tempDir } from './support/tmp.js';

const TOOLS = ['sh', 'cp', 'rm', 'cat', 'sha256sum', 'ls', 'chmod', 'mv', 'mkdir'];

function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

let work: string;
let source: string;
let chunked: string;
/** The same chunked folder with the native assembler in its chunk store, as a chunked build's image holds it. */
let chunkedNative: string;
let tree: ChunkedTree;

/** A PATH folder of links: each tool to `target(tool)`. */
function binDir(name: string, tools: string[], target: (tool: string) => string): string {
  const dir = path.join(work, `bin-${name}`);
  mkdirSync(dir);
  for (const t of tools) symlinkSync(target(t), path.join(dir, t));
  return dir;
}

function snapshot(root: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.includes(r)) continue;
      const st = lstatSync(path.join(root, r));
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(path.join(root, r))}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${(st.mode & 0o777).toString(8)}`;
        walk(r);
      } else out[r] = `file ${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex')}`;
    }
  };
  walk('');
  return out;
}

const variants: { label: string; bin: () => string; native?: boolean }[] = [
  // No sha256sum beside openssl: the copy must hash with openssl to pass.
  {
    label: 'dash, GNU coreutils and openssl (no sha256sum)',
    bin: () => binDir('gnu-openssl', [...TOOLS.filter((t) => t !== 'sha256sum'), 'openssl'], (t) => (t === 'sh' ? which('dash')! : which(t)!)),
  },
  { label: 'dash and GNU coreutils, no openssl', bin: () => binDir('gnu', TOOLS, (t) => (t === 'sh' ? which('dash')! : which(t)!)) },
  { label: 'busybox alone', bin: () => binDir('busybox', TOOLS, () => '/usr/bin/busybox') },
  { label: 'busybox and the native assembler', bin: () => binDir('busybox-native', TOOLS, () => '/usr/bin/busybox'), native: true },
];

beforeAll(async () => {
  work = await tempDir('gl-assemble-sh-');
  source = path.join(work, 'source');
  mkdirSync(path.join(source, 'a b', "it's"), { recursive: true });
  writeFileSync(path.join(source, 'a b', "it's", 'big.pak'), randomBytes(2_500_000));
  writeFileSync(path.join(source, 'tool.bin'), randomBytes(1_200_000));
  chmodSync(path.join(source, 'tool.bin'), 0o755);
  writeFileSync(path.join(source, '.cfg'), 'x\n');
  symlinkSync('tool.bin', path.join(source, 'tool'));
  chunked = path.join(work, 'chunked');
  tree = await writeChunkedTree(source, chunked, { minFileSize: 1_000_000, chunkSize: 100_000 });
  chunkedNative = path.join(work, 'chunked-native');
  expect(spawnSync('cp', ['-a', chunked, chunkedNative]).status).toBe(0);
  await addNativeAssembler(chunkedNative);
});

describe('assembling copy with each tool set a base image may have', () => {
  it('has the tools to test with (dash, GNU coreutils, openssl, busybox)', () => {
    for (const t of ['dash', 'openssl', ...TOOLS.filter((x) => x !== 'sh')]) expect(which(t), t).toBeDefined();
    expect(existsSync('/usr/bin/busybox')).toBe(true);
    expect(tree.files).toHaveLength(2);
  });

  for (const [i, v] of variants.entries()) {
    it(`${v.label}: identical copy, then a damaged chunk is named and leaves no sentinel`, () => {
      const bin = v.bin();
      const from0 = v.native ? chunkedNative : chunked;
      const run = (to: string, from = from0) =>
        spawnSync(path.join(bin, 'sh'), ['-c', copyScript('app-media', from, to, { chunked: true })], { encoding: 'utf8', env: { PATH: bin } });
      const to = path.join(work, `out-${i}`);
      mkdirSync(to);
      const r = run(to);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // The native assembler, when the tree has it, says so first (and only then).
      expect(r.stdout.startsWith('gamelayer: app-media: assembling with the native assembler (gamelayer-assemble 1 ')).toBe(v.native === true);
      expect(existsSync(path.join(to, COPY_SENTINEL))).toBe(true);
      expect(snapshot(to, [COPY_SENTINEL])).toEqual(snapshot(source));

      const damaged = path.join(work, `damaged-${i}`);
      expect(spawnSync('cp', ['-a', from0, damaged]).status).toBe(0);
      const chunk = path.join(damaged, chunkPath(tree.files.find((f) => f.path === 'tool.bin')!.chunks[2]!.sha256));
      const bytes = readFileSync(chunk);
      bytes[7] = bytes[7]! ^ 0x10;
      writeFileSync(chunk, bytes);
      const to2 = path.join(work, `out-damaged-${i}`);
      mkdirSync(to2);
      const bad = run(to2, damaged);
      expect(bad.status).not.toBe(0);
      expect(bad.stdout.includes('native assembler')).toBe(v.native === true);
      expect(bad.stderr).toMatch(/^gamelayer: app-media: tool\.bin \(recipe .*\): chunk 3 \([0-9a-f]{64}\): its bytes hash to [0-9a-f]{64}: .* is damaged$/m);
      expect(existsSync(path.join(to2, COPY_SENTINEL))).toBe(false);
      expect(existsSync(path.join(to2, 'tool.bin'))).toBe(false);
      expect(existsSync(path.join(to2, 'tool.bin.gamelayer-tmp'))).toBe(false);
    });
  }
});
