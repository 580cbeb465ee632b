// gamelayer ls REPO of a repository the registry does not have printed an empty table ("0 tags, 0 build records"),
// exit 0: a misspelt name or the wrong registry looked like an empty repository. It is now an error naming it
// (registry.not-found, exit 1), as inspect of an image there is; a repository whose tags were all deleted still
// lists 0 tags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
}, 60_000);
afterAll(async () => {
  await reg?.stop();
});

describe('ls of a repository that does not exist', () => {
  it('is an error naming it; an emptied repository lists 0 tags', async () => {
    const missing = await runCli(['ls', `${reg.host}/studio/nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain(`error[registry.not-found]: ${reg.host}/studio/nope: no such repository (${reg.host} answered 404 to its tag list)`);
    const json = await runCli(['ls', `${reg.host}/studio/nope`, '--json']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { error: { code: string } }).error.code).toBe('registry.not-found');

    // A repository that exists but holds no tag (its one tag deleted): 0 tags, exit 0.
    const body = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [] });
    const put = await fetch(`${reg.url}/v2/studio/empty/manifests/t1`, { method: 'PUT', headers: { 'content-type': INDEX }, body });
    expect(put.status).toBe(201);
    expect((await fetch(`${reg.url}/v2/studio/empty/manifests/${put.headers.get('docker-content-digest')}`, { method: 'DELETE' })).status).toBe(202);
    const empty = await runCli(['ls', `${reg.host}/studio/empty`]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('0 tags, 0 build records');
  });
});
