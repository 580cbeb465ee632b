// A base image archive is walked once and its JSON documents kept in memory. Every member up to 4 MiB was kept, so
// an archive of many small members was held whole (memory grew with the archive, without bound). Now only JSON
// members are kept, at most 64 MiB of them: past that the archive is refused (`base.archive`), while any number of
// small members that are not JSON (small layers, other files) costs no memory and builds.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { addTag } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const MEMBER = 4 << 20;

/** A game on an oci-archive of a one-layer base plus 17 extra members of 4 MiB (68 MiB) made by `member`. */
async function gameOnArchive(prefix: string, member: (i: number) => Buffer): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: archive-documents', 'start: [/opt/local/engine/run]', 'baseImage: oci-archive:base.tar:b']);
  const layout = path.join(dir, 'layout');
  await addTag(layout, 'b', [{ layers: [{ files: { 'etc/os-release': 'ID=test\n' } }] }]);
  for (let i = 0; i < 17; i++) await writeFile(path.join(layout, `extra-${i}`), member(i));
  execFileSync('tar', ['-cf', path.join(dir, 'base.tar'), '-C', layout, '.']);
  return dir;
}

describe('the JSON members kept from a base image archive', () => {
  it('more than 64 MiB of JSON members: refused, naming the archive (was: all held in memory)', async () => {
    const dir = await gameOnArchive('gl-archive-json-', (i) => Buffer.from(`{"pad${i}":"${'a'.repeat(MEMBER - 20)}"}`));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`error[base.archive]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(dir, 'base.tar')}: holds more than 64 MiB of JSON members; not an image archive\n`);
    expect(r.code).toBe(1);
  });

  it('68 MiB of small members that are not JSON: not kept, and the build goes on (control)', async () => {
    const dir = await gameOnArchive('gl-archive-other-', () => Buffer.alloc(MEMBER - 20, 'x'));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });

  it('an index.json that is not JSON at all is named as such, not as missing', async () => {
    const dir = await tempDir('gl-archive-index-');
    await writeTinyGame(dir, ['game: archive-documents', 'start: [/opt/local/engine/run]', 'baseImage: oci-archive:base.tar:b']);
    const layout = path.join(dir, 'layout');
    await addTag(layout, 'b', [{ layers: [{ files: { 'etc/os-release': 'ID=test\n' } }] }]);
    await writeFile(path.join(layout, 'index.json'), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    execFileSync('tar', ['-cf', path.join(dir, 'base.tar'), '-C', layout, '.']);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`error[base.json]: ${path.join(dir, 'base.tar')}:index.json: not valid JSON (it does not start with "{" or "[")\n`);
    expect(r.code).toBe(1);
  });
});
