// Docker's config.json and its credential helpers are input like any other: a field of the wrong type, a helper that
// prints `null`, a helper that exits without reading the host from its stdin. They failed as error[internal] (an
// `auth` of 5 in Buffer.from, `null`'s Secret) or ended gamelayer with a stack trace (EPIPE on the helper's stdin, an
// unhandled 'error' event); an object was used as "[object Object]". Now each is an error naming the file and the
// field (or the helper), and a helper that says "not found" without reading its stdin means anonymous, as it should.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useTagListRegistry } from './support/tag-list-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useTagListRegistry();
let work = '';

beforeAll(async () => {
  work = await tempDir();
  await mkdir(path.join(work, 'bin'));
});

/** `ls HOST/game` with this config.json, and a helper docker-credential-closed running `script` with its stdin closed. */
async function ls(config: unknown, script = 'exit 1') {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  const helper = path.join(work, 'bin', 'docker-credential-closed');
  await writeFile(helper, `#!/bin/sh\nexec 0<&-\n${script}\n`);
  await chmod(helper, 0o755);
  return runCli(['ls', `${registry.host()}/game`], { env: { DOCKER_CONFIG: dir, PATH: `${path.join(work, 'bin')}:${process.env.PATH}`, GAMELAYER_REGISTRY_RETRIES: '1' } });
}

describe('a docker config.json that does not hold what Docker writes', () => {
  it('an auth that is a number: registry.credentials naming the file and the field', async () => {
    const r = await ls({ auths: { [registry.host()]: { auth: 5 } } });
    expect(r.stderr).toMatch(new RegExp(`^error\\[registry\\.credentials\\]: \\S+/config\\.json: auths\\.${registry.host().replace(/\./g, '\\.')}\\.auth is a number, not a string$`, 'm'));
    expect(r.code).toBe(1);
  });

  it('a credsStore that is an object: named, not run as docker-credential-[object Object]', async () => {
    const r = await ls({ credsStore: { a: 1 } });
    expect(r.stderr).toMatch(/^error\[registry\.credentials\]: \S+\/config\.json: credsStore is an object, not a string$/m);
    expect(r.code).toBe(1);
  });

  // null, a list or a string parse as JSON but are no config: `auths` of null was an error[internal] (a TypeError).
  it.each([
    ['null', null, 'null'],
    ['a list', [1], 'a list'],
    ['auths as a list', { auths: [] }, 'auths is a list'],
    ['credHelpers as null', { credHelpers: null }, 'credHelpers is null'],
  ])('%s: registry.credentials naming the file', async (_name, config, said) => {
    const r = await ls(config);
    expect(r.stderr).toMatch(new RegExp(`^error\\[registry\\.credentials\\]: \\S+/config\\.json: ${said}, not an object$`, 'm'));
    expect(r.code).toBe(1);
  });
});

describe('a credential helper that exits without reading the host', () => {
  it('and says "not found": anonymous, the listing works', async () => {
    const r = await ls({ credHelpers: { [registry.host()]: 'closed' } }, 'echo "credentials not found in native keychain"\nexit 1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('v1');
    expect(r.code).toBe(0);
  });

  it('and prints null: registry.credential-helper naming the helper', async () => {
    const r = await ls({ credHelpers: { [registry.host()]: 'closed' } }, 'echo null');
    expect(r.stderr).toContain(`error[registry.credential-helper]: credential helper docker-credential-closed printed JSON for ${registry.host()} that is not an object with string Username and Secret`);
    expect(r.code).toBe(1);
  });
});
