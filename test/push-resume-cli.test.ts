// gamelayer push killed (SIGKILL) part-way through a big layer, then run again: the second run continues the upload
// the first left in the registry (kept in .gamelayer/uploads/) instead of sending the layer from byte 0. A real CNCF
// registry behind a proxy that counts the bytes pushes put on the wire and reads each request whole before passing
// it on (as nginx does by default): a PATCH cut by the kill never reaches the registry, so its session stays at the
// last acknowledged chunk. Without such a front distribution cancels a session whose PATCH was cut, and the next
// run starts afresh (test/upload-resume.test.ts covers that and the other fallbacks).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../src/report/reporter.js';
import { runCli, startCli, type CliResult } from './support/cli-process.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { storageProblems } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

// Relative Locations: a client behind the proxy stays behind it.
const fx = useCountingRegistry('buffer', { relativeUrls: true });
const MIB = 1024 * 1024;
/** The CLI's chunk: 64 MiB. The big file is incompressible, so its layer is a bit over 150 MiB: three chunks. */
const CHUNK = 64 * MIB;
const BIG = 150 * MIB;
const env = { GAMELAYER_CHUNKED_UPLOAD_ABOVE: '32' };

let dir: string;
let layer: { digest: string; size: number };

beforeAll(async () => {
  dir = await tempDir();
  copySample(dir);
  const fh = await open(path.join(dir, 'app-media/big.pak'), 'w');
  for (let n = 0; n < BIG; n += 16 * MIB) await fh.write(randomBytes(16 * MIB));
  await fh.close();
  const built = await runCli(['build', '--tag', 'v1', '--json'], { cwd: dir, env });
  expect(built.code, built.stderr).toBe(0);
  const record = JSON.parse(built.stdout) as { images: { name: string; digest: string }[] };
  expect(record.images.length).toBeGreaterThan(0);
  // The big layer: the largest blob of the store.
  const blobs = path.join(dir, '.gamelayer/oci/blobs/sha256');
  let best = { digest: '', size: 0 };
  for (const name of await readdir(blobs)) {
    const size = (await (await import('node:fs/promises')).stat(path.join(blobs, name))).size;
    if (size > best.size) best = { digest: `sha256:${name}`, size };
  }
  layer = best;
  expect(layer.size).toBeGreaterThan(2 * CHUNK);
}, 300_000);

async function blobSha(repo: string, digest: string): Promise<string> {
  const res = await fetch(`http://${fx.registry.host}/v2/${repo}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return `sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`;
}

describe('gamelayer push killed mid-layer, run again', () => {
  it('the rerun sends about the rest of the layer, not all of it; the registry ends with every blob right', async () => {
    const repo = 'studio/resume';
    const to = `${fx.proxy.host}/${repo}:v1`;
    fx.proxy.reset();
    const first = startCli(['push', to, '--concurrency', '1'], { cwd: dir, env });
    // Killed once 100 MiB reached the proxy: the first chunk of the big layer (64 MiB) acknowledged, the second cut.
    const killedAt = new Promise<number>((resolve) => {
      fx.proxy.onReceived = (total) => {
        if (total < CHUNK + 36 * MIB) return;
        fx.proxy.onReceived = undefined;
        first.child.kill('SIGKILL');
        resolve(total);
      };
    });
    const ended = await first.result;
    expect(ended.signal, ended.stderr).toBe('SIGKILL');
    const sentFirst = await killedAt;
    expect((await readdir(path.join(dir, '.gamelayer/uploads'))).filter((n) => n.endsWith('.json'))).toHaveLength(1);

    fx.proxy.reset();
    const again = await runCli(['push', to, '--concurrency', '1'], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    const sentAgain = fx.proxy.received;
    expect(again.stderr).toContain(`continuing the upload kept from an earlier run at byte ${CHUNK} of ${layer.size}`);
    // The rest of the big layer (plus what else was not in yet: small blobs, manifests, the record), not all of it.
    expect(sentAgain).toBeGreaterThanOrEqual(layer.size - CHUNK);
    expect(sentAgain).toBeLessThan(layer.size - CHUNK + 4 * MIB);
    expect(await readdir(path.join(dir, '.gamelayer/uploads'))).toEqual([]);
    console.log(`killed after ${(sentFirst / MIB).toFixed(1)} MiB; rerun sent ${(sentAgain / MIB).toFixed(1)} MiB of a ${(layer.size / MIB).toFixed(1)} MiB layer`);

    // The registry's view, with an independent client: the manifest and every blob it names, hashed.
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${fx.registry.host}/${repo}:v1`]).toString()) as {
      config: { digest: string };
      layers: { digest: string; size: number }[];
    };
    expect(manifest.layers.map((l) => l.digest)).toContain(layer.digest);
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) expect(await blobSha(repo, d)).toBe(d);
    expect(await storageProblems(fx.registry.storageDir)).toEqual([]);
  }, 300_000);

  it('straight to distribution (no buffering front), the cut chunk cancels the session: the rerun warns and sends the layer whole', async () => {
    await stoppedStraight('studio/restart', 'SIGKILL', async (repo, to, stopped) => {
      expect(stopped.signal).toBe('SIGKILL');
      const again = await runCli(['push', to, '--concurrency', '1'], { cwd: dir, env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/the upload an earlier run left is gone from .*: that blob is sent again from the start/);
      expect(fx.proxy.received).toBeGreaterThanOrEqual(layer.size);
      expect(await readdir(path.join(dir, '.gamelayer/uploads'))).toEqual([]);
      const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${fx.registry.host}/${repo}:v1`]).toString()) as { layers: { digest: string }[] };
      expect(manifest.layers.map((l) => l.digest)).toContain(layer.digest);
      expect(await blobSha(repo, layer.digest)).toBe(layer.digest);
    });
  }, 300_000);

  it('stopped with Ctrl-C: one line says what went up and that the same command resumes; the rerun notes the gone upload once, short', async () => {
    // Ctrl-C ended the push at once, exit 130, without a word; the rerun then warned, with the blob's file path, that the
    // upload kept was gone (twice). Straight to distribution, which cancels the session whose chunk the stop cut.
    await stoppedStraight('studio/interrupted', 'SIGINT', async (repo, to, stopped) => {
      expect(stopped.code, stopped.stderr).toBe(130);
      const last = stopped.stderr.trimEnd().split('\n').at(-1);
      expect(last).toMatch(/^push stopped by Ctrl-C: (no blob had reached the registry yet|\d+ blobs? \([\d.]+ [KMG]?i?B\) had reached the registry), [\d.]+ MiB of unfinished uploads were cut; run the same command again to resume: what the registry holds is not sent again$/);

      const again = await runCli(['push', to, '--concurrency', '1'], { cwd: dir, env });
      expect(again.code, again.stderr).toBe(0);
      const about = again.stderr.split('\n').filter((l) => l.includes('earlier run'));
      expect(about).toEqual([
        `note: blob ${layer.digest.slice(7, 19)} (${formatBytes(layer.size)}) to ${fx.proxy.host}/${repo}: the upload an earlier run left is gone from ${fx.proxy.host} ` +
          '(cancelled when its last chunk was cut, or expired): that blob is sent again from the start',
      ]);
      expect(again.stderr).not.toContain('.gamelayer/oci/blobs');
      expect(await blobSha(repo, layer.digest)).toBe(layer.digest);
    });
  }, 300_000);
});

/**
 * A push straight to distribution (the front streams, so a stop cuts the registry's request too), stopped by `signal`
 * once the big layer's first chunk is acknowledged and its second under way; then `rest`, with the counts reset.
 */
async function stoppedStraight(repo: string, signal: NodeJS.Signals, rest: (repo: string, to: string, stopped: CliResult) => Promise<void>): Promise<void> {
  const direct = fx.proxy;
  direct.mode = 'stream';
  direct.reset();
  try {
    const to = `${direct.host}/${repo}:v1`;
    const first = startCli(['push', to, '--concurrency', '1'], { cwd: dir, env });
    direct.onReceived = (total) => {
      if (total < CHUNK + 36 * MIB) return;
      direct.onReceived = undefined;
      first.child.kill(signal);
    };
    const stopped = await first.result;
    direct.reset();
    await rest(repo, to, stopped);
  } finally {
    direct.mode = 'buffer';
  }
}
