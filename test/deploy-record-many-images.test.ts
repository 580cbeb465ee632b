// `k8s --record HOST/REPO:TAG` asks the repository for each image the record names (one HEAD per digest). A record
// there is anyone's JSON: one naming thousands of images made thousands of HEADs, all started at once. A build makes
// at most MAX_RECORD_IMAGES images (5 per platform and an index each, 35 platforms), so a record naming more is
// refused before any is asked for, naming the record and the count; the HEADs of a record within the bound go a few
// at a time. Real registry behind a proxy that counts the HEADs in flight, real CLI.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_IMAGES, RECORD_IMAGE_LOOKUPS } from '../src/k8s/record-source.js';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import type { BuildRecord } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

/** A proxy to the registry that counts manifest HEADs: in all, and the most in flight at once. */
async function headCounter(): Promise<{ host: string; heads: number; most: number; stop(): Promise<void> }> {
  const [upHost, upPort] = registry.host.split(':') as [string, string];
  let inFlight = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  const counter = { host: '', heads: 0, most: 0, stop: () => new Promise<void>((r) => server.close(() => r())) };
  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD' && /\/manifests\/sha256:/.test(req.url ?? '');
    if (head) {
      counter.heads++;
      counter.most = Math.max(counter.most, ++inFlight);
    }
    // Held a little, as a registry across a network would answer: HEADs started at once overlap here.
    setTimeout(() => {
      const out = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: { ...req.headers, host: registry.host }, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => {
          if (head) inFlight--;
        });
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    }, head ? 20 : 0);
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  counter.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return counter;
}

/** `count` image entries of digests the repository does not hold. */
function strangers(count: number): BuildRecord['images'] {
  return Array.from({ length: count }, (_, i) => ({ name: `extra-${i}`, digest: `sha256:${i.toString(16).padStart(64, 'e')}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' }));
}

describe('k8s --record of a record naming many images', () => {
  it(`more than ${MAX_RECORD_IMAGES}: refused at once naming the record and the count, no HEAD sent; within the bound, at most ${RECORD_IMAGE_LOOKUPS} HEADs at once`, async () => {
    const name = `studio/many-images-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const dir = await tempDir();
    copySample(dir);
    const built = await runCli(['build', '--push', repo, '--tag', 'v1'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const found = await fetchBuildRecordFor(`${repo}:v1`);
    const server = found.record.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
    const subject = { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) };
    const proxy = await headCounter();
    try {
      const viaProxy = `${proxy.host}/${name}`;
      const host = await tempDir();
      copySample(host);

      const tooMany = found.record.images.length + strangers(5000).length;
      await pushBuildRecord({ to: repo, record: { ...found.record, images: [...found.record.images, ...strangers(5000)] }, subject, tags: ['v1'] });
      const refused = await runCli(['k8s', '--record', `${viaProxy}:v1`], { cwd: host });
      expect(refused.stderr).toContain(
        `error[record.invalid]: ${viaProxy}:v1: its build record names ${tooMany} images; a build makes at most ${MAX_RECORD_IMAGES} (the server image and 4 tree images per platform, and an index of each, for at most 35 platforms)`,
      );
      expect(refused.code).toBe(1);
      expect(proxy.heads).toBe(0);

      const images = [...found.record.images, ...strangers(MAX_RECORD_IMAGES - found.record.images.length)];
      await pushBuildRecord({ to: repo, record: { ...found.record, images }, subject, tags: ['v1'] });
      const read = await runCli(['k8s', '--record', `${viaProxy}:v1`], { cwd: host });
      expect(read.code, read.stderr).toBe(0);
      expect(proxy.heads).toBe(new Set(images.map((i) => i.digest)).size);
      expect(proxy.most).toBeLessThanOrEqual(RECORD_IMAGE_LOOKUPS);
    } finally {
      await proxy.stop();
    }
  }, 300_000);
});
