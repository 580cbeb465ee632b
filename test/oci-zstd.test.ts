// zstd layers (issue 17): the tar goes through a feed thread into named pipes that `zstd` processes read, and they
// write the blob's temp file themselves; long runs of random-looking tar become raw frames the feed's thread writes.
// These tests pin what that must keep: the bytes (the same whatever the thread count; zstd's frames as its stdin pipe
// gives them, raw frames exactly where the input is random), correct digests, a clear error and nothing left behind
// when the compressor fails, and a layer independent clients (zstd -d, skopeo's Go zstd decoder, umoci) read back.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirContentSource } from '../src/oci/content.js';
import { closeGzipWorkers } from '../src/oci/gzip.js';
import { imageConfig, imageManifest, layerDescriptor } from '../src/oci/image.js';
import { buildLayer, type BuildLayerOptions } from '../src/oci/layer.js';
import { OciStore } from '../src/oci/store.js';
import { layerTar } from '../src/oci/tar.js';
import { closeZstdWorkers, startZstdToFile } from '../src/oci/zstd.js';
import { createZstd } from '../src/oci/zstd-stream.js';
import { rawFrame } from '../src/oci/zstd-raw.js';
import type { FileEntry, PlannedLayer } from '../src/types.js';
import { noise, scanEntries } from './support/oci-fixtures.js';
import { copySample } from './support/sample.js';
import { zstdFrames } from './support/zstd-frames.js';

const MiB = 1 << 20;

const tmp = mkdtempSync(path.join(tmpdir(), 'oci-zstd-'));
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await closeZstdWorkers();
  await closeGzipWorkers();
});

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });

let root: string;
let entries: FileEntry[];

function planned(index = 0): PlannedLayer {
  return { tree: 'app', index, entries, inputKey: `sha256:${index}`, bytes: entries.reduce((n, e) => n + e.size, 0) };
}

/** Files of every path the layer writer takes: small (read whole), big (read in pieces into its chunks), empty. */
beforeAll(async () => {
  root = path.join(tmp, 'game');
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'media/paks'), { recursive: true });
  const text = Buffer.from('player_spawn origin 100 200 300; weapon_give rifle ammo 90\n'.repeat(200_000)); // 12 MB
  writeFileSync(path.join(root, 'bin/server'), text);
  writeFileSync(path.join(root, 'media/paks/a.pak'), noise(5_000_001, 'a'));
  writeFileSync(path.join(root, 'media/paks/b.pak'), Buffer.concat([noise(700_000, 'b'), text.subarray(0, 3_333_333)]));
  writeFileSync(path.join(root, 'media/paks/c.pak'), noise(12_000_000, 'c')); // a run of random MiBs long enough to be raw
  writeFileSync(path.join(root, 'media/empty'), '');
  for (let i = 0; i < 200; i++) writeFileSync(path.join(root, `media/s${i}.cfg`), `setting_${i} = ${'x'.repeat(i * 37)}\n`);
  writeFileSync(path.join(root, 'media/edge.bin'), noise(256 * 1024 + 1, 'edge')); // just past the small-file path
  entries = await scanEntries(root);
}, 60_000);

async function storeAt(name: string): Promise<OciStore> {
  return OciStore.open(path.join(tmp, name));
}

async function build(store: OciStore, extra: Partial<BuildLayerOptions> & { bin?: string; threads?: number } = {}) {
  const { bin, threads, ...rest } = extra;
  return buildLayer(planned(), { content: dirContentSource(root), mount: '/opt/local/app', store, compression: { kind: 'zstd', bin, threads }, ...rest });
}

async function tarBytes(): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of layerTar(planned(), dirContentSource(root), { mount: '/opt/local/app' })) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** What is in the store's blob folder and temp folder: a failed build must add nothing to either. */
function storeFiles(store: OciStore): { blobs: string[]; temps: string[] } {
  return { blobs: readdirSync(path.join(store.dir, 'blobs/sha256')).sort(), temps: readdirSync(path.join(store.dir, '.tmp')) };
}

describe('zstd layers', () => {
  it('give the same bytes across runs and with 1, 2 and 3 zstd threads; random runs are raw frames, the rest zstd\'s own, as its stdin pipe gives them; diffID and digest are right', async () => {
    const tar = await tarBytes();
    expect(tar.length).toBeGreaterThan(16 << 20); // many of zstd's jobs (2 MiB at level 1, 8 MiB at level 3), so the thread count could matter
    const built = [];
    for (const [i, threads] of [1, 2, 3, undefined].entries()) {
      const store = await storeAt(`threads-${i}`);
      const l = await build(store, { threads });
      const blob = readFileSync(store.blobPath(l.digest));
      expect(sha256(blob)).toBe(l.digest);
      expect(blob.length).toBe(l.size);
      expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
      built.push({ l, blob });
    }
    for (const b of built.slice(1)) {
      expect(b.l.digest).toBe(built[0]!.l.digest);
      expect(b.l.diffID).toBe(built[0]!.l.diffID);
    }
    // The diffID is the sha256 of the uncompressed tar, and zstd -d gives exactly that tar back.
    const blob = built[0]!.blob;
    expect(built[0]!.l.diffID).toBe(sha256(tar));
    const decoded = execFileSync('zstd', ['-d', '-c'], { input: blob, maxBuffer: 256 << 20 });
    expect(decoded.equals(tar)).toBe(true);

    // Frame by frame, in tar order: a raw frame is one whole MiB of the tar at a multiple of a MiB; a zstd frame is
    // byte for byte what `zstd` gives through its stdin (createZstd) for its stretch of the tar.
    const rawPieces = new Set<number>();
    let at = 0;
    for (const f of zstdFrames(blob)) {
      const bytes = blob.subarray(f.start, f.start + f.length);
      if (f.kind === 'raw') {
        expect(at % MiB).toBe(0);
        expect(f.content!.length).toBe(MiB);
        expect(f.contentSize).toBe(MiB);
        expect(f.content!.equals(tar.subarray(at, at + MiB))).toBe(true);
        rawPieces.add(at / MiB);
        at += MiB;
        continue;
      }
      const stretch = execFileSync('zstd', ['-d', '-c'], { input: bytes, maxBuffer: 256 << 20 });
      expect(stretch.equals(tar.subarray(at, at + stretch.length))).toBe(true);
      const viaStdin: Buffer[] = [];
      await pipeline(Readable.from([stretch]), createZstd(), async function* (src) {
        for await (const c of src) viaStdin.push(c as Buffer);
      });
      expect(Buffer.concat(viaStdin).equals(bytes)).toBe(true);
      at += stretch.length;
    }
    expect(at).toBe(tar.length);
    // Where: every MiB wholly inside c.pak (12 MB of random bytes) is raw; none holding the text of bin/server is.
    const cStart = tar.indexOf(readFileSync(path.join(root, 'media/paks/c.pak')).subarray(0, 64));
    const pieces = (from: number, to: number) => Array.from({ length: Math.max(0, Math.floor(to / MiB) - Math.ceil(from / MiB)) }, (_, i) => Math.ceil(from / MiB) + i);
    const inC = pieces(cStart, cStart + 12_000_000);
    expect(inC.length).toBeGreaterThanOrEqual(10);
    for (const p of inC) expect(rawPieces.has(p), `piece ${p}`).toBe(true);
    const text = readFileSync(path.join(root, 'bin/server'));
    const textStart = tar.indexOf(text.subarray(0, 4096));
    for (let p = Math.floor(textStart / MiB); p * MiB < textStart + text.length; p++) expect(rawPieces.has(p), `piece ${p}`).toBe(false);
    expect(rawPieces.size).toBeLessThan(tar.length / MiB - 12); // the text went through zstd
  }, 120_000);

  it('a tar of text only is one zstd frame (no process per file); one that ends in a raw run, or is nothing but random MiBs, is whole frames with no zstd left behind', async () => {
    const text = Buffer.from('map de_dust2; sv_cheats 0; mp_roundtime 2\n'.repeat(30_000)); // ~1.2 MB
    const cases: [Buffer, string[]][] = [
      [Buffer.concat(Array.from({ length: 8 }, () => text)), ['zstd']],
      [Buffer.concat([text.subarray(0, MiB), noise(5 * MiB, 'tail')]), ['zstd', 'raw', 'raw', 'raw', 'raw', 'raw']],
      [noise(6 * MiB, 'all'), ['raw', 'raw', 'raw', 'raw', 'raw', 'raw']],
      [Buffer.concat([noise(3 * MiB, 'short'), text]), ['zstd']], // a random run too short to be raw
    ];
    for (const [i, [input, kinds]] of cases.entries()) {
      const file = path.join(tmp, `feed-${i}.zst`);
      const out = openSync(file, 'w+');
      try {
        const feed = await startZstdToFile({ output: out });
        for (let at = 0; at < input.length; at += 300_000) await feed.write(input.subarray(at, at + 300_000)); // not on MiB bounds
        expect((await feed.end()).diffID).toBe(sha256(input));
        const { digest, size } = await feed.hashFile(out);
        const blob = readFileSync(file);
        expect(sha256(blob)).toBe(digest);
        expect(blob.length).toBe(size);
        expect(zstdFrames(blob).map((f) => f.kind)).toEqual(kinds);
        expect(execFileSync('zstd', ['-d', '-c'], { input: blob, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
      } finally {
        closeSync(out);
      }
      // The zstd started for a stretch that never came (case 1) was killed, as was the layer's shell.
      const children = execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').map((x) => x.trim());
      expect(children.filter((c) => c === 'zstd' || c === 'sh')).toEqual([]);
    }
  }, 60_000);

  it('skopeo (Go zstd decoder) recompresses the layer to gzip and umoci unpacks exactly the input files', async () => {
    const store = await storeAt('skopeo');
    const l = await build(store);
    expect(zstdFrames(readFileSync(store.blobPath(l.digest))).map((f) => f.kind)).toContain('raw'); // both kinds of frame
    const config = imageConfig({ platform: { os: 'linux', architecture: 'amd64' }, layers: [{ diffID: l.diffID, createdBy: 'test' }], entrypoint: ['/opt/local/app/bin/server'] });
    await store.putJson(config.bytes, config.descriptor.mediaType);
    const manifest = imageManifest({ config: config.descriptor, layers: [layerDescriptor(l)] });
    await store.tag('v1', await store.putJson(manifest.bytes, manifest.descriptor.mediaType));
    // skopeo verifies the zstd blob's digest while reading it, decodes it with its own (Go) decoder and writes gzip.
    const copy = path.join(tmp, 'skopeo-gzip');
    sh('skopeo', ['copy', '-q', '--dest-compress-format', 'gzip', '--dest-compress', `oci:${store.dir}:v1`, `oci:${copy}:v1`]);
    const copied = JSON.parse(sh('skopeo', ['inspect', '--raw', `oci:${copy}:v1`])) as { layers: { mediaType: string }[] };
    expect(copied.layers.map((x) => x.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip']);
    const bundle = path.join(tmp, 'skopeo-bundle');
    sh('umoci', ['unpack', '--rootless', '--image', `${copy}:v1`, bundle]);
    for (const e of entries) {
      if (e.type !== 'file') continue;
      expect(readFileSync(path.join(bundle, 'rootfs/opt/local/app', e.path)).equals(readFileSync(path.join(root, e.path))), e.path).toBe(true);
    }
  }, 120_000);

  describe('a compressor that fails', () => {
    /** A fake `zstd` (a shell script) of no known version: it reads the pipe as its stdin, as the real one. */
    function fakeZstd(name: string, body: string): string {
      const file = path.join(tmp, name);
      writeFileSync(file, `#!/bin/sh\ncase "$1" in --version) exit 1;; esac\n${body}\n`);
      chmodSync(file, 0o755);
      return file;
    }

    it('dies half-way: a zstd.failed error with its message and exit status, and no blob or temp file in the store', async () => {
      const bin = fakeZstd('crash-zstd', 'head -c 3000000 > /dev/null\necho "zstd: simulated crash after 3 MB" >&2\nexit 3');
      const store = await storeAt('crash');
      const before = storeFiles(store);
      const err = await build(store, { bin }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('zstd.failed');
      expect(err?.message).toMatch(/exited with 3: zstd: simulated crash after 3 MB/);
      expect(storeFiles(store)).toEqual(before);
      // The feed's thread is fine afterwards: the next layer builds.
      const ok = await build(store);
      expect(storeFiles(store).blobs).toEqual([ok.digest.slice('sha256:'.length)]);
    }, 60_000);

    it('is killed after writing a complete-looking frame: an error, not a truncated blob', async () => {
      // The first 8 MB of the tar compressed into a valid zstd frame (what a blob cut short could look like), then a
      // SIGKILL: only the exit status tells that the output is not the whole layer.
      const bin = fakeZstd('killed-zstd', 'head -c 8000000 | zstd -3 -q -c\nkill -9 $$');
      const store = await storeAt('killed');
      const before = storeFiles(store);
      await expect(build(store, { bin })).rejects.toMatchObject({ code: 'zstd.failed', message: expect.stringMatching(/killed-zstd was killed by SIGKILL/) });
      expect(storeFiles(store)).toEqual(before);
    }, 60_000);

    it('exits at once without reading (a broken install): an error, never a hang', async () => {
      const bin = fakeZstd('broken-zstd', 'echo "zstd: error while loading shared libraries: libzstd.so.1" >&2\nexit 127');
      const store = await storeAt('broken');
      const before = storeFiles(store);
      await expect(build(store, { bin })).rejects.toMatchObject({ code: 'zstd.failed', message: expect.stringMatching(/exited with 127: zstd: error while loading shared libraries/) });
      expect(storeFiles(store)).toEqual(before);
    }, 60_000);

    it('is not installed: zstd.missing, and nothing in the store', async () => {
      const store = await storeAt('missing');
      const before = storeFiles(store);
      await expect(build(store, { bin: path.join(tmp, 'no-such-zstd') })).rejects.toMatchObject({ code: 'zstd.missing', message: expect.stringMatching(/cannot run .*no-such-zstd/) });
      expect(storeFiles(store)).toEqual(before);
    }, 60_000);

    it('a layer over the registry limit stops with the limit error and leaves nothing', async () => {
      const store = await storeAt('limit');
      const before = storeFiles(store);
      await expect(build(store, { maxBytes: 1_000_000, tooBig: () => new Error('layer too big for the registry') })).rejects.toThrow('layer too big for the registry');
      expect(storeFiles(store)).toEqual(before);
    }, 60_000);
  });

  it('zstd 1.5.4 and later run without their asynchronous I/O threads (same bytes); an older one, or one of unknown version, gets no flag', async () => {
    const real = execFileSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).trim();
    /** A zstd that says `version` and records its arguments, then compresses as the real one. */
    const zstdSaying = (name: string, version: string) => {
      const bin = path.join(tmp, name);
      writeFileSync(bin, `#!/bin/sh\ncase "$1" in --version) echo "*** Zstandard CLI (64-bit) ${version}, by Yann Collet ***"; exit 0;; esac\necho "$@" > "${bin}.args"\nexec "${real}" "$@"\n`);
      chmodSync(bin, 0o755);
      return bin;
    };
    const input = noise(3 << 20, 'asyncio');
    const argsOf = async (bin: string) => {
      const out = openSync(path.join(tmp, `${path.basename(bin)}.zst`), 'w+');
      try {
        const feed = await startZstdToFile({ output: out, bin });
        await feed.write(input);
        expect((await feed.end()).diffID).toBe(sha256(input));
        await feed.abort();
      } finally {
        closeSync(out);
      }
      expect(execFileSync(real, ['-d', '-c', path.join(tmp, `${path.basename(bin)}.zst`)], { maxBuffer: 16 << 20 }).equals(input)).toBe(true);
      return readFileSync(`${bin}.args`, 'utf8').trim().split(' ');
    };
    for (const v of ['v1.5.4', 'v1.5.5', 'v1.6.0']) expect(await argsOf(zstdSaying(`zstd-${v}`, v))).toContain('--no-asyncio');
    for (const v of ['v1.5.2', 'v1.4.8', 'something else']) expect(await argsOf(zstdSaying(`zstd-${v.replace(' ', '-')}`, v))).not.toContain('--no-asyncio');
  }, 60_000);

  it('zstd reads a pipe of 1 MiB where the kernel grants one (the build\'s perl launcher asks for it); without perl on PATH a shell of the layer\'s starts it, with the same blob', async () => {
    const real = execFileSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).trim();
    const perl = execFileSync('sh', ['-c', 'command -v perl'], { encoding: 'utf8' }).trim();
    // A zstd that records the size of the pipe on its stdin (F_GETPIPE_SZ), then compresses as the real one.
    const sizes = path.join(tmp, 'pipe-sizes');
    mkdirSync(sizes);
    const bin = path.join(tmp, 'pipe-size-zstd');
    writeFileSync(bin, `#!/bin/sh\ncase "$1" in --version) exec "${real}" "$@";; esac\n"${perl}" -e 'print fcntl(STDIN, 1032, 0)' > "${sizes}/$$"\nexec "${real}" "$@"\n`);
    chmodSync(bin, 0o755);
    // (An empty file: the zstd started ahead for a stretch that never came, killed before it wrote its size.)
    const recorded = () =>
      readdirSync(sizes)
        .map((f) => readFileSync(path.join(sizes, f), 'utf8'))
        .filter((t) => t !== '')
        .map(Number);
    // What the kernel grants a fresh pipe now: 1 MiB, or the default once root's pipes are over pipe-user-pages-soft.
    const granted = Number(execFileSync(perl, ['-e', 'pipe(R, W); print fcntl(W, 1031, 1048576) ? 1048576 : 65536'], { encoding: 'utf8' }));
    const { input } = switchingInput();
    const withPerl = await feedBlob(input, 'perl-launched.zst', bin);
    // The three zstd stretches of the input, and maybe the one started ahead for a stretch that never came.
    expect(recorded().length).toBeGreaterThanOrEqual(3);
    expect(new Set(recorded())).toEqual(new Set([granted]));

    rmSync(sizes, { recursive: true });
    mkdirSync(sizes);
    const noPerl = path.join(tmp, 'no-perl-bin');
    mkdirSync(noPerl);
    for (const tool of ['mkfifo']) execFileSync('ln', ['-s', execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(noPerl, tool)]);
    const pathBefore = process.env.PATH;
    await closeZstdWorkers(); // the build's launcher, started above, ends: the next layer looks for perl again
    process.env.PATH = noPerl;
    try {
      const withShell = await feedBlob(input, 'shell-launched.zst', bin);
      expect(withShell.blob.equals(withPerl.blob)).toBe(true);
      expect(withShell.digest).toBe(withPerl.digest);
      expect(withShell.diffID).toBe(sha256(input));
    } finally {
      process.env.PATH = pathBefore;
    }
    expect(recorded().length).toBeGreaterThanOrEqual(3);
    expect(new Set(recorded())).toEqual(new Set([65536])); // a shell cannot ask for more
    expect(execFileSync(real, ['-d', '-c'], { input: withPerl.blob, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
  }, 120_000);

  it('a layer given up half-way leaves nothing behind in its feed: the next layer on it gets the diffID of its own tar', async () => {
    // The feed's threads go on to the next layer. Its hash of the input used to live on in the thread until a
    // diff-id or a failed write: a layer given up between writes (a file changed, the size limit, a damaged cache
    // copy retried) left its bytes in the next layer's diffID.
    const bin = path.join(tmp, 'reads-all-zstd');
    writeFileSync(bin, '#!/bin/sh\ncase "$1" in --version) exit 1;; esac\nexec cat > /dev/null\n'); // never blocks a write
    chmodSync(bin, 0o755);
    const out = openSync(path.join(tmp, 'given-up.zst'), 'w+');
    try {
      const first = await startZstdToFile({ output: out, bin });
      await first.write(noise(5 << 20, 'given-up')); // two full slots go to the feed's threads
      await sleep(300); // they are written and hashed (cat reads at once): nothing is in flight when it is given up
      await first.abort();
      const input = noise(3 << 20, 'next');
      const next = await startZstdToFile({ output: out });
      await next.write(input);
      const { diffID, bytes } = await next.end();
      await next.abort();
      expect(bytes).toBe(input.length);
      expect(diffID).toBe(sha256(input));
    } finally {
      closeSync(out);
    }
  }, 60_000);

  /** Text and random MiBs in stretches: zstd, a raw run of 5, zstd (with a random run too short to be raw), a raw run of 4, zstd. */
  function switchingInput(): { input: Buffer; parts: { kind: 'zstd' | 'raw'; bytes: Buffer }[] } {
    const text = (n: number, seed: string) => Buffer.from(`${seed}: sv_cheats 0; mp_roundtime 5; bot_add ct\n`.repeat(Math.ceil(n / 40))).subarray(0, n);
    const parts: { kind: 'zstd' | 'raw'; bytes: Buffer }[] = [
      { kind: 'zstd', bytes: text(2 * MiB, 'a') },
      { kind: 'raw', bytes: noise(5 * MiB, 'run-1') },
      { kind: 'zstd', bytes: Buffer.concat([text(MiB, 'b'), noise(3 * MiB, 'short'), text(MiB, 'c')]) },
      { kind: 'raw', bytes: noise(4 * MiB, 'run-2') },
      { kind: 'zstd', bytes: text(MiB + 123_457, 'd') },
    ];
    return { input: Buffer.concat(parts.map((p) => p.bytes)), parts };
  }

  /** The blob `startZstdToFile` makes of `input` with `bin`, written in chunks of an odd size (gathered into slots). */
  async function feedBlob(input: Buffer, name: string, bin?: string) {
    const file = path.join(tmp, name);
    const out = openSync(file, 'w+');
    try {
      const feed = await startZstdToFile({ output: out, bin });
      for (let at = 0; at < input.length; at += 300_001) await feed.write(input.subarray(at, at + 300_001));
      const { diffID, bytes } = await feed.end();
      const { digest, size } = await feed.hashFile(out);
      return { diffID, bytes, digest, size, blob: readFileSync(file) };
    } finally {
      closeSync(out);
    }
  }

  it('where a zstd stretch gives way to a raw run, the raw frames follow that zstd\'s frame even when it writes its frame late; the blob is the same as with zstd writing at once', async () => {
    // A stretch's zstd writes its frame into the blob itself, and the raw frames after it may go there only once it
    // exited: this one writes its whole frame 0.3 s after it read its input, so raw frames written on its input's end
    // (and not on its exit) would land in front of it. Pins the order for any change to how that wait is done.
    const late = path.join(tmp, 'late-zstd');
    writeFileSync(late, '#!/bin/sh\nzstd "$@" | { sleep 0.3; cat; }\n');
    chmodSync(late, 0o755);
    const { input, parts } = switchingInput();
    // What the blob must be: each zstd stretch as zstd makes it from its stdin, each random MiB of a raw run a raw frame.
    const expected: Buffer[] = [];
    for (const part of parts) {
      if (part.kind === 'raw') {
        for (let at = 0; at < part.bytes.length; at += MiB) expected.push(...rawFrame(part.bytes.subarray(at, at + MiB)).map((b) => Buffer.from(b)));
        continue;
      }
      const z: Buffer[] = [];
      await pipeline(Readable.from([part.bytes]), createZstd(), async function* (src) {
        for await (const c of src) z.push(c as Buffer);
      });
      expected.push(...z);
    }
    const want = Buffer.concat(expected);
    for (const [name, bin] of [['at-once.zst', undefined], ['late.zst', late]] as const) {
      const r = await feedBlob(input, name, bin);
      expect(r.blob.equals(want), name).toBe(true);
      expect(r.diffID).toBe(sha256(input));
      expect(r.bytes).toBe(input.length);
      expect(r.digest).toBe(sha256(r.blob));
      expect(r.size).toBe(r.blob.length);
      expect(zstdFrames(r.blob).map((f) => f.kind)).toEqual(['zstd', ...Array(5).fill('raw'), 'zstd', ...Array(4).fill('raw'), 'zstd']);
      expect(execFileSync('zstd', ['-d', '-c'], { input: r.blob, maxBuffer: 256 << 20 }).equals(input)).toBe(true);
    }
  }, 120_000);

  it('a zstd that fails after its input, while the raw run after it waits: a zstd.failed error with its message, and the feed is fine afterwards', async () => {
    const bin = path.join(tmp, 'fails-at-end-zstd');
    writeFileSync(bin, '#!/bin/sh\nzstd "$@" || exit $?\necho "zstd: simulated failure at the end of its input" >&2\nexit 3\n');
    chmodSync(bin, 0o755);
    const { input } = switchingInput();
    await expect(feedBlob(input, 'fails-at-end.zst', bin)).rejects.toMatchObject({ code: 'zstd.failed', message: expect.stringMatching(/exited with 3: zstd: simulated failure at the end of its input/) });
    const ok = await feedBlob(input, 'after-failure.zst');
    expect(ok.diffID).toBe(sha256(input));
    expect(ok.digest).toBe(sha256(ok.blob));
  }, 120_000);

  it('a file changed after the scan (read in pieces, past the small-file path) fails the layer and leaves nothing, in zstd\'s stretch or in a raw run', async () => {
    // a.pak's change is read while zstd takes the tar; c.pak's deep inside a raw run, after raw frames were written.
    for (const [name, at] of [['a.pak', 4_000_000], ['c.pak', 10_000_000]] as const) {
      const store = await storeAt(`changed-${name}`);
      const before = storeFiles(store);
      const pak = path.join(root, 'media/paks', name);
      const original = readFileSync(pak);
      const altered = Buffer.from(original);
      altered[at] = altered[at]! ^ 0xff; // same size, different bytes deep inside: only the content hash sees it
      writeFileSync(pak, altered);
      try {
        await expect(build(store)).rejects.toMatchObject({ code: 'content.changed', message: expect.stringContaining(`${name}: changed since it was scanned: its content hashes to xxh64`) });
      } finally {
        writeFileSync(pak, original);
      }
      expect(storeFiles(store)).toEqual(before);
    }
    // The feed threads are fine afterwards: the layer builds.
    const ok = await build(await storeAt('changed-after'));
    expect(ok.diffID).toBe(sha256(await tarBytes()));
  }, 60_000);

  it('the CLI (its bundle, where the feed thread is an entry point of its own) builds the sample game with zstd layers', async () => {
    const dir = path.join(tmp, 'sample');
    copySample(dir);
    const out = execFileSync(process.execPath, [path.resolve('bin/gamelayer.js'), 'build', '--compression', 'zstd', '--json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    const layers = (JSON.parse(out) as { summary: { layers: { digest: string; mediaType: string; reused: boolean }[] } }).summary.layers;
    expect(layers.length).toBeGreaterThan(3);
    for (const l of layers) {
      expect(l.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
      const blob = readFileSync(path.join(dir, '.gamelayer/oci/blobs/sha256', l.digest.slice('sha256:'.length)));
      expect(sha256(blob)).toBe(l.digest);
      execFileSync('zstd', ['-t', '-q'], { input: blob });
    }
  }, 120_000);
});
