// `ls REPO` labelled a tag "record of X" by its name alone (`X.gamelayer-record`, and every `gamelayer-line.*` tag),
// even when it named an image: a tag a user or another tool pushed so would pass for a build record. The kind now
// comes from what the tag names (the build-record artifact type).
import { cp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let dir: string;
const repo = 'studio/kinds';

/** Tags the manifest of `from` as `to` too, through the distribution API (no gamelayer in between). */
async function retag(from: string, to: string): Promise<void> {
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
  const got = await fetch(`${registry.url}/v2/${repo}/manifests/${from}`, { headers: { accept } });
  expect(got.status).toBe(200);
  const type = got.headers.get('content-type')!;
  const put = await fetch(`${registry.url}/v2/${repo}/manifests/${to}`, { method: 'PUT', body: Buffer.from(await got.arrayBuffer()), headers: { 'content-type': type } });
  expect(put.status).toBe(201);
}

beforeAll(async () => {
  dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  registry = await startRegistry();
  const pushed = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/${repo}`], { cwd: dir });
  expect(pushed.code, pushed.stderr).toBe(0);
  await retag('v1-app', 'fake.gamelayer-record');
  await retag('v1', 'gamelayer-line.fake');
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});

describe('ls REPO: a tag is a record by what it names', () => {
  it('an image tagged X.gamelayer-record or gamelayer-line.L is listed as an image or index, the real record as a record', async () => {
    const r = await runCli(['ls', `${registry.host}/${repo}`], { cwd: dir, env: { COLUMNS: '200' } });
    expect(r.code, r.stderr).toBe(0);
    const kind = (tag: string) => new RegExp(`^${tag.replace(/\./g, '\\.')} +(.+?)  `, 'm').exec(r.stdout)?.[1];
    expect(kind('fake.gamelayer-record')).toBe('image');
    expect(kind('gamelayer-line.fake')).toMatch(/^(image|index)$/);
    expect(kind('v1.gamelayer-record')).toBe('record of v1');
    expect(kind('gamelayer-line.default')).toBe('record of v1 (line default)');
    expect(kind('v1-app')).toBe('image');
  });

  it('ls --json says the same', async () => {
    const r = await runCli(['ls', `${registry.host}/${repo}`, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { tag: string; kind: string; recordOf?: string; line?: string }[] | { tags: { tag: string; kind: string; recordOf?: string; line?: string }[] };
    const list = Array.isArray(rows) ? rows : rows.tags;
    const fake = list.find((t) => t.tag === 'fake.gamelayer-record')!;
    expect(fake.kind).toBe('image');
    expect(fake.recordOf).toBeUndefined();
    const line = list.find((t) => t.tag === 'gamelayer-line.fake')!;
    expect(line.kind).not.toBe('record');
    expect(line.line).toBeUndefined();
  });
});
