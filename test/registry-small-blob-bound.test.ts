// A small blob (a build record, an artifact's config) is read whole into memory, and its descriptor says how big it
// is. A registry answering it with an endless body was read up to 512 MiB (the bound of the largest record any game
// could have) before anything was said: half a GiB held, and about as much again to join the pieces, for a 2 KiB
// record. The descriptor's size is the bound: a byte more is another blob, reported as bytes of another digest are.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const reg = useRegistry();
let root: string;
beforeAll(async () => {
  root = await tempDir('gl-small-blob-');
});

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
async function json(url: string, accept: string): Promise<{ manifests?: { digest: string; artifactType?: string }[]; layers?: { digest: string; size: number }[] }> {
  return (await fetch(url, { headers: { Accept: accept } }).then((r) => r.json())) as never;
}

describe('a small blob answered with an endless body', () => {
  it('inspect REPO:TAG reads no more than the record blob descriptor says: the blob is refused as a wrong one', async () => {
    const dir = path.join(root, 'game');
    await writeGame(dir);
    expect((await runCli(['build', '-t', 'v1', '--push', `${reg.host}/studio/game`], { cwd: dir })).code).toBe(0);
    const index = await json(`${reg.url}/v2/studio/game/manifests/v1.gamelayer-record`, INDEX);
    const recordManifest = index.manifests!.find((m) => m.artifactType)!.digest;
    const blob = (await json(`${reg.url}/v2/studio/game/manifests/${recordManifest}`, MANIFEST)).layers![0]!;
    expect(blob.size).toBeLessThan(64 * 1024);

    const proxy = await startFaultProxy(reg.host, [{ method: 'GET', path: new RegExp(`/blobs/${blob.digest}$`), count: 100, action: { kind: 'endless', status: 200 } }]);
    try {
      const r = await runCli(['inspect', `${proxy.host}/studio/game:v1`], { cwd: dir });
      expect(r.stderr).toContain(`error[record.invalid]: ${proxy.host}/studio/game@${recordManifest}: the record blob does not match its digest ${blob.digest}`);
      expect(r.code).toBe(1);
      // What the proxy wrote before the client dropped the connection: the socket buffers', not hundreds of MiB.
      const sent = proxy.seen.filter((s) => s.fault !== undefined).map((s) => s.bodyBytesSent ?? 0);
      expect(sent.length).toBeGreaterThan(0);
      expect(Math.max(...sent)).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await proxy.stop();
    }
  });
});
