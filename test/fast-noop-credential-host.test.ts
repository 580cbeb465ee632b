// The fast path of a no-op finds a registry's credentials by the host as the reference names it, as the full path
// does (registry/connect.ts: resolveCredentials(ref.registry)): a default port written in the reference
// (`127.0.0.1:80`, `host:443`) stays in that key, though the URL the stamp speaks to drops it. A registry on port 80
// or 443 cannot be started in a test; the credentials are found before any question is asked, so an entry the fast
// path cannot use alike (an identity token) shows which key it read, with no registry at all.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { registryPlace } from '../src/cli/fast-noop/record.js';
import { registryDifference } from '../src/cli/fast-noop/registry-check.js';
import { findCredentials } from '../src/registry/docker-config.js';
import { parseReference } from '../src/registry/reference.js';
import { tempDir } from './support/tmp.js';

const DIGEST = `sha256:${'0'.repeat(64)}`;

it('looks the credentials of a reference written with a default port up under that port, as the full path does', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ auths: { '127.0.0.1:80': { identitytoken: 'refresh-me' } } }));
  const env = { DOCKER_CONFIG: dir };
  const ref = parseReference('127.0.0.1:80/studio/game:v1');
  // The full path's reading for this reference: the identity token, which it exchanges at the realm.
  expect(await findCredentials(ref.registry, env)).toMatchObject({ identityToken: 'refresh-me' });
  // What record.ts stamps for it: the URL without the port, the host with it.
  const place = { url: 'http://127.0.0.1', registry: '127.0.0.1:80' };
  expect(registryPlace(ref.registry)).toEqual(place);
  const stamp = {
    tags: [{ ...place, repository: ref.repository, tag: 'v1', digest: DIGEST }],
    blobs: [],
    bases: [],
    recordBlob: { ...place, repository: ref.repository, digest: DIGEST, size: 1 },
  };
  // The fast path does not exchange an identity token: it falls through before asking anything (on the code
  // before, it looked `127.0.0.1` up, found nothing and went anonymously).
  expect(await registryDifference(stamp, env)).toBe(`127.0.0.1:80: an identity token (${file} auths)`);
});
