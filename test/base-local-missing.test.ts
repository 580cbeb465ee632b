// A local baseImage that is not there or is no image: `oci-archive:` / `docker-archive:` of a missing file crashed
// the build with Node's stack trace (an 'error' event nobody listened to yet), a file that is no tar was
// `error[internal]: Unexpected end of data` ("looks like a bug"), and a missing `oci:` folder named the folder but not
// the field. Each is now an error at the baseImage field (file:line:column), as a registry base that is not there is.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-base-missing-');
  await writeFile(path.join(dir, 'garbage.tar'), Buffer.alloc(3000, 0x41));
  await mkdir(path.join(dir, 'empty-layout'));
});

async function buildOn(base: string) {
  await writeTinyGame(dir, ['game: base-missing', 'start: /opt/local/engine/start.sh', `baseImage: ${base}`]);
  return runCli(['build'], { cwd: dir });
}

describe('a local baseImage that is missing or no image', () => {
  const field = () => `${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: `;
  it.each([
    ['oci-archive:missing.tar', 'base.unreadable', (d: string) => `${path.join(d, 'missing.tar')}: cannot read: ENOENT`],
    ['docker-archive:missing.tar', 'base.unreadable', (d: string) => `${path.join(d, 'missing.tar')}: cannot read: ENOENT`],
    ['oci-archive:garbage.tar', 'base.archive', (d: string) => `${path.join(d, 'garbage.tar')}: not a readable tar archive: `],
    ['docker-archive:garbage.tar', 'base.archive', (d: string) => `${path.join(d, 'garbage.tar')}: not a readable tar archive: `],
    ['oci:missing-layout', 'store.missing', (d: string) => `${path.join(d, 'missing-layout')}: the store does not exist`],
    ['oci:empty-layout:v1', 'store.not-layout', (d: string) => `${path.join(d, 'empty-layout')}: not an OCI image layout`],
  ])('%s: %s at the field, exit 1, no stack trace', async (base, code, what) => {
    const r = await buildOn(base);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error[${code}]: ${field()}${what(dir)}`);
    expect(r.stderr).toContain("hint: check the path in baseImage (relative paths start at gamelayer.yaml's folder)");
    expect(r.stderr).not.toMatch(/\n\s+at |error\[internal\]/);
  });

  it('a tag the local base does not hold: base.tag at the field', async () => {
    const layout = path.join(dir, 'busybox-layout');
    await writeBusyboxLayout(layout, { tag: 'busybox' });
    const r = await buildOn('oci:busybox-layout:nope');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error[base.tag]: ${field()}${layout}: no image tagged "nope"`);
    expect(r.stderr).toContain('hint: check the tag in baseImage');
  });
});
