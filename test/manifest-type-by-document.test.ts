// `ls REPO` and `prune` judged an index or a manifest by the Content-Type of the answer: a proxy (or a registry)
// answering another type than the document's listed an image as an empty index, and made prune delete a build's
// record index as if it were the record manifest, leaving that manifest behind untagged. Both now read the
// document (its mediaType, its `manifests`), checked against its digest, as base-pull.ts does.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const running = useRegistryBehindFaultProxy();
let dir: string;
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

beforeAll(async () => {
  dir = await tempDir('gl-type-doc-');
});

async function manifest(name: string, ref: string): Promise<{ status: number; bytes: Buffer; digest: string; type: string }> {
  const r = await fetch(`${running.registry.url}/v2/${name}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()), digest: r.headers.get('docker-content-digest') ?? '', type: r.headers.get('content-type') ?? '' };
}

async function build(name: string, tag: string, change: string): Promise<void> {
  const d = path.join(dir, `${name.replace('/', '-')}-${tag}`);
  copySample(d);
  await appendFile(path.join(d, 'app/config/server.cfg'), `\n${change}\n`);
  const r = await runCli(['build', '--tag', tag, '--push', `${running.registry.host}/${name}`], { cwd: d });
  expect(r.code, r.stderr).toBe(0);
}

describe('an answer whose Content-Type is not the document\'s type', () => {
  it('ls REPO lists an image served as an index as the image it is, with its size', async () => {
    const name = 'studio/ls-type';
    await build(name, 'v1', 'a=1');
    const app = await manifest(name, 'v1-app');
    expect(app.type).toBe('application/vnd.oci.image.manifest.v1+json');
    running.proxy.setRules([
      {
        method: 'GET',
        path: new RegExp(`/v2/${name}/manifests/v1-app$`),
        count: 10,
        action: { kind: 'status', status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json', 'docker-content-digest': app.digest }, body: app.bytes.toString('utf8') },
      },
    ]);
    const r = await runCli(['ls', `${running.proxy.host}/${name}`, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const parsed = JSON.parse(r.stdout) as { tag: string; kind: string; size: number }[] | { tags: { tag: string; kind: string; size: number }[] };
    const row = (Array.isArray(parsed) ? parsed : parsed.tags).find((t) => t.tag === 'v1-app')!;
    expect(running.proxy.fired[0]).toBeGreaterThan(0);
    expect(row.kind).toBe('image');
    expect(row.size).toBeGreaterThan(app.bytes.length);
  }, 240_000);

  it('prune takes a record index served as application/json off its record manifest, which goes too', async () => {
    const name = 'studio/prune-type';
    await build(name, 'v1', 'a=1');
    await build(name, 'v2', 'a=2');
    const index = await manifest(name, 'v1.gamelayer-record');
    expect(index.type).toBe('application/vnd.oci.image.index.v1+json');
    const record = (JSON.parse(index.bytes.toString('utf8')) as { manifests: { digest: string; platform?: { os?: string } }[] }).manifests.find((m) => m.platform?.os === 'unknown')!.digest;
    const lie = { 'content-type': 'application/json', 'docker-content-digest': index.digest, 'content-length': String(index.bytes.length) };
    running.proxy.setRules([
      { method: 'HEAD', path: new RegExp(`/v2/${name}/manifests/v1\\.gamelayer-record$`), count: 10, action: { kind: 'status', status: 200, headers: lie } },
      { method: 'GET', path: new RegExp(`/v2/${name}/manifests/(v1\\.gamelayer-record|${index.digest})$`), count: 10, action: { kind: 'status', status: 200, headers: lie, body: index.bytes.toString('utf8') } },
    ]);
    const r = await runCli(['prune', `${running.proxy.host}/${name}`, '--keep', '1', '--apply'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(running.proxy.fired[0]).toBeGreaterThan(0);
    expect((await manifest(name, 'v1.gamelayer-record')).status).toBe(404);
    expect((await manifest(name, index.digest)).status).toBe(404);
    // The record manifest the index listed is not left behind, untagged.
    expect((await manifest(name, record)).status).toBe(404);
    expect((await manifest(name, 'v2.gamelayer-record')).status).toBe(200);
  }, 240_000);
});
