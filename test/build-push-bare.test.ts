// `build --push` with no repository pushes to the config's `registry`, as docs/config.md says of that field. It
// was a usage error ("option '--push <repository>' argument missing"), so a buildspec had to repeat the repository
// the config already names. Without `registry:` it says so before anything is scanned.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();

async function tags(repo: string): Promise<string[]> {
  const res = await fetch(`${registry.url}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

describe('build --push without a repository', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('gl-bare-push-');
    await writeGame(dir);
  });

  it('without registry: in the config, refuses before scanning, naming the config', async () => {
    const r = await runCli(['build', '--tag', 'v1', '--push'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cli.no-registry');
    expect(r.stderr).toContain(`--push without a repository: ${path.join(dir, 'gamelayer.yaml')} has no "registry"`);
    // Refused before the build: no record was written.
    expect(await readdir(path.join(dir, '.gamelayer', 'records')).catch(() => [])).toEqual([]);
  });

  it('pushes to the config\'s registry, alone or beside a named repository', async () => {
    const file = path.join(dir, 'gamelayer.yaml');
    await writeFile(file, `${await readFile(file, 'utf8')}registry: ${registry.host}/studio/bare\n`);
    const r = await runCli(['build', '--tag', 'v1', '--push'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await tags('studio/bare')).toContain('v1');

    const both = await runCli(['build', '--tag', 'v2', '--push', '--push', `${registry.host}/studio/other`], { cwd: dir });
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain(`${registry.host}/studio/bare: pushed`);
    expect(await tags('studio/bare')).toContain('v2');
    expect(await tags('studio/other')).toContain('v2');
  });
});
