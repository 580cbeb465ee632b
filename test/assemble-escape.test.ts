// The init copy fed a malicious or damaged tree image: links in the copied tree must never let the copy write outside
// its volume. A link where an assembled file's folder should be (`esc -> /elsewhere` beside a recipe `r/esc/big.pak`),
// a link named like an assembly's temporary, a link where the assembled file goes, a link named like the sentinel:
// each is refused or replaced, never written through. Run with dash + GNU coreutils, busybox alone, and busybox with
// the native assembler, as test/assemble-script.test.ts does.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COPY_SENTINEL, copyScript } from '../src/k8s/scripts.js';
import { addNativeAssembler, CHUNK_STORE, writeChunkedTree } from './support/chunked-tree.js';
import { tempDir } from './support/tmp.js';

const TOOLS = ['sh', 'cp', 'rm', 'cat', 'sha256sum', 'ls', 'chmod', 'mv', 'mkdir'];

function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

let work: string;
let source: string;
let n = 0;

function binDir(name: string, tools: string[], target: (tool: string) => string): string {
  const dir = path.join(work, `bin-${name}`);
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  for (const t of tools) symlinkSync(target(t), path.join(dir, t));
  return dir;
}

const variants: { label: string; bin: () => string; native: boolean }[] = [
  { label: 'dash and GNU coreutils', bin: () => binDir('gnu', TOOLS, (t) => (t === 'sh' ? which('dash')! : which(t)!)), native: false },
  { label: 'busybox alone', bin: () => binDir('busybox', TOOLS, () => '/usr/bin/busybox'), native: false },
  { label: 'busybox and the native assembler', bin: () => binDir('busybox', TOOLS, () => '/usr/bin/busybox'), native: true },
];

/** A fresh chunked tree of `source` (with the native assembler when asked), an empty target and an outside folder. */
async function setup(native: boolean): Promise<{ from: string; to: string; outside: string }> {
  const dir = path.join(work, `case-${n++}`);
  const from = path.join(dir, 'tree');
  await writeChunkedTree(source, from, { minFileSize: 1_000_000, chunkSize: 100_000 });
  if (native) await addNativeAssembler(from);
  const to = path.join(dir, 'volume');
  const outside = path.join(dir, 'outside');
  mkdirSync(to);
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'victim'), 'keep me\n');
  return { from, to, outside };
}

function run(bin: string, from: string, to: string, chunked = true) {
  return spawnSync(path.join(bin, 'sh'), ['-c', copyScript('app-media', from, to, { chunked })], { encoding: 'utf8', env: { PATH: bin } });
}

function untouched(outside: string): void {
  expect(readdirSync(outside)).toEqual(['victim']);
  expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('keep me\n');
}

beforeAll(async () => {
  work = await tempDir('gl-assemble-escape-');
  source = path.join(work, 'source');
  mkdirSync(path.join(source, 'maps'), { recursive: true });
  writeFileSync(path.join(source, 'maps', 'big.pak'), randomBytes(1_300_000));
  writeFileSync(path.join(source, 'tool.bin'), randomBytes(1_100_000));
  writeFileSync(path.join(source, 'small.cfg'), 'x\n');
});

describe('init copy of a hostile chunked tree image never writes outside its volume', () => {
  for (const v of variants) {
    it(`${v.label}: a link in place of an assembled file's folder is refused, nothing written through it`, async () => {
      const { from, to, outside } = await setup(v.native);
      // The plain part of the tree holds `esc -> outside`; a recipe puts a file under esc/.
      symlinkSync(outside, path.join(from, 'esc'));
      mkdirSync(path.join(from, CHUNK_STORE, 'r', 'esc'));
      copyFileSync(path.join(from, CHUNK_STORE, 'r', 'maps', 'big.pak'), path.join(from, CHUNK_STORE, 'r', 'esc', 'big.pak'));
      const r = run(v.bin(), from, to);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/^gamelayer: app-media: esc\/big\.pak \(recipe .*\): esc is a link in the copied tree, not a folder: refusing to write through it$/m);
      untouched(outside);
      expect(existsSync(path.join(to, COPY_SENTINEL))).toBe(false);
    });

    it(`${v.label}: a link named like an assembly's temporary is replaced, not written through`, async () => {
      const { from, to, outside } = await setup(v.native);
      symlinkSync(path.join(outside, 'victim'), path.join(from, 'tool.bin.gamelayer-tmp'));
      const r = run(v.bin(), from, to);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      untouched(outside);
      expect(readFileSync(path.join(to, 'tool.bin')).equals(readFileSync(path.join(source, 'tool.bin')))).toBe(true);
    });

    it(`${v.label}: a link to a folder where an assembled file goes is replaced by the file`, async () => {
      const { from, to, outside } = await setup(v.native);
      symlinkSync(outside, path.join(from, 'tool.bin'));
      const r = run(v.bin(), from, to);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      untouched(outside);
      expect(lstatSync(path.join(to, 'tool.bin')).isFile()).toBe(true);
      expect(readFileSync(path.join(to, 'tool.bin')).equals(readFileSync(path.join(source, 'tool.bin')))).toBe(true);
    });

    it(`${v.label}: a link named like the sentinel is replaced by the sentinel`, async () => {
      const { from, to, outside } = await setup(v.native);
      symlinkSync(path.join(outside, 'victim'), path.join(from, COPY_SENTINEL));
      const r = run(v.bin(), from, to);
      expect(r.status).toBe(0);
      untouched(outside);
      expect(lstatSync(path.join(to, COPY_SENTINEL)).isFile()).toBe(true);
    });
  }

  it('the plain copy: a link named like the sentinel is replaced by the sentinel', async () => {
    const { to, outside } = await setup(false);
    const plain = path.join(work, 'plain');
    mkdirSync(plain);
    writeFileSync(path.join(plain, 'a.cfg'), 'a\n');
    symlinkSync(path.join(outside, 'victim'), path.join(plain, COPY_SENTINEL));
    const r = run(variants[1]!.bin(), plain, to, false);
    expect(r.status).toBe(0);
    untouched(outside);
    expect(lstatSync(path.join(to, COPY_SENTINEL)).isFile()).toBe(true);
  });
});

// The scan records every file as 755 or 644 (normalizeMode), so a recipe never says anything else: a recipe with
// setuid, setgid or sticky bits, or any other mode, is a hostile image's, and must not make such a file on the volume.
describe("init copy refuses a recipe mode the scan never records (setuid, setgid, sticky, others')", () => {
  for (const v of variants) {
    for (const mode of ['4755', '6777', '1644', '777', '0755']) {
      it(`${v.label}: mode ${mode} is refused, the file is not written`, async () => {
        const { from, to } = await setup(v.native);
        const recipe = path.join(from, CHUNK_STORE, 'r', 'tool.bin');
        writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(/^mode [0-7]+$/m, `mode ${mode}`));
        const r = run(v.bin(), from, to);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(new RegExp(`^gamelayer: app-media: tool\\.bin \\(recipe .*\\): mode "${mode}": expected 755 or 644 \\(the modes gamelayer records\\)$`, 'm'));
        expect(existsSync(path.join(to, 'tool.bin'))).toBe(false);
        expect(existsSync(path.join(to, COPY_SENTINEL))).toBe(false);
      });
    }
  }
});

describe('a copy that fails never leaves a .complete the tree image held', () => {
  it('the plain copy: cp fails after copying the image\'s .complete; the target has none', async () => {
    const { to } = await setup(false);
    const plain = path.join(work, 'plain-complete');
    mkdirSync(path.join(plain, 'sub'), { recursive: true });
    writeFileSync(path.join(plain, 'sub', 'x'), 'x\n');
    writeFileSync(path.join(plain, COPY_SENTINEL), '');
    writeFileSync(path.join(to, 'sub'), 'a file where the tree has a folder\n');
    const r = run(variants[1]!.bin(), plain, to, false);
    expect(r.status).not.toBe(0);
    expect(existsSync(path.join(to, COPY_SENTINEL))).toBe(false);
  });

  for (const v of variants) {
    it(`${v.label}: an assembly that fails leaves no .complete, even one the image held`, async () => {
      const { from, to } = await setup(v.native);
      writeFileSync(path.join(from, COPY_SENTINEL), '');
      // A recipe whose chunks are not there.
      writeFileSync(path.join(from, CHUNK_STORE, 'r', 'tool.bin'), readFileSync(path.join(from, CHUNK_STORE, 'r', 'tool.bin'), 'utf8').replace(/^[0-9a-f]{64} /m, `${'0'.repeat(64)} `));
      const r = run(v.bin(), from, to);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/tool\.bin \(recipe .*\): chunk 1 \(0{64}\) is missing/);
      expect(existsSync(path.join(to, COPY_SENTINEL))).toBe(false);
    });
  }
});
