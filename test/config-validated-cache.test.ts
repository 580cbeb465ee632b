// A command run on an unchanged gamelayer.yaml takes the config as this gamelayer validated it before, from the state
// folder's cache (src/config/validated-cache.ts): a no-op build no longer parses the YAML nor builds the zod schemas.
// What must not change with it: the checks that read the file system still run on every load, and say where in the
// file (the YAML is parsed for that position only); an edited text is checked afresh; reading a config in a folder
// no build has used writes nothing.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckedJson, writeCheckedJson } from '../src/util/checked-json.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const HEAD = ['game: validated-cache', 'start: [/opt/local/engine/run]', 'store: oci-link'];

async function cached(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, '.gamelayer', 'cache'))).filter((f) => f.startsWith('validated-config-'));
}

const FORMAT = 'gamelayer-validated-config/1';
interface Entry {
  key: string;
  raw: { game: string };
}

/** A game whose config entry is kept (two builds), and that entry's file and content. */
async function keptEntry(prefix: string): Promise<{ dir: string; file: string; entry: Entry }> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, HEAD);
  for (let i = 0; i < 2; i++) expect((await runCli(['build', '--json', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
  const [name] = await cached(dir);
  const file = path.join(dir, '.gamelayer', 'cache', name!);
  const read = await readCheckedJson<Entry>(file, FORMAT);
  if (!read.ok) throw new Error(`${file}: ${read.reason}`);
  expect(read.value.raw.game).toBe('validated-cache');
  return { dir, file, entry: read.value };
}

async function scannedGame(dir: string): Promise<string> {
  const r = await runCli(['scan', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { game: string }).game;
}

describe('the validated config, kept by the state folder', () => {
  it('is kept once a build made the state folder; a file-system problem found later is still said at its line', async () => {
    const dir = await tempDir('gl-validated-cache-');
    await writeTinyGame(dir, HEAD);
    for (const run of ['first', 'second', 'third']) {
      const r = await runCli(['build', '--json', '--tag', 'v1'], { cwd: dir });
      expect(r.code, `${run}: ${r.stderr}`).toBe(0);
    }
    expect(await cached(dir)).toHaveLength(1);
    // The store's name now leads into a tree's source: refused, at the store line, from the kept config as well.
    await rm(path.join(dir, 'oci-link'), { recursive: true });
    await symlink('app', path.join(dir, 'oci-link'));
    const r = await runCli(['build', '--json', '--tag', 'v1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:3:8: store: ${path.join(dir, 'oci-link')} is the source of trees.app`);
  });

  it('an edited config is checked afresh: its mistake is said, not the kept text taken', async () => {
    const dir = await tempDir('gl-validated-edit-');
    await writeTinyGame(dir, HEAD);
    for (let i = 0; i < 2; i++) expect((await runCli(['build', '--json', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    expect(await cached(dir)).toHaveLength(1);
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('game: validated-cache', 'game: Validated-Cache'));
    const r = await runCli(['build', '--json', '--tag', 'v1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${yaml}:1:7: game: expected a lower-case name`);
  });

  it('a command in a folder without a state folder creates none for it', async () => {
    const dir = await tempDir('gl-validated-fresh-');
    await writeTinyGame(dir, HEAD);
    for (let i = 0; i < 2; i++) {
      // k8s reads the config, then stops: no registry to name the images by.
      const r = await runCli(['k8s', '--out', 'k8s'], { cwd: dir });
      expect(r.stderr).toContain('error[deploy.repository]');
    }
    expect(existsSync(path.join(dir, '.gamelayer'))).toBe(false);
  });

  it('is read: an entry under the same key is taken as the config, unparsed', async () => {
    const { dir, file, entry } = await keptEntry('gl-validated-read-');
    // The same key (this text, this gamelayer) with another game in it: only a command that reads the entry says it.
    await writeCheckedJson(file, FORMAT, { key: entry.key, raw: { ...entry.raw, game: 'from-the-cache' } });
    expect(await scannedGame(dir)).toBe('from-the-cache');
  });

  it("an entry under another gamelayer's key (its package.json or module file another) is not taken", async () => {
    const { dir, file, entry } = await keptEntry('gl-validated-other-code-');
    // The key hashes gamelayer's own files' identity with the text; this one's identity is not that.
    const text = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    const otherKey = createHash('sha256').update('[["/elsewhere/package.json","1","2","3","4","5"]]').update('\0').update(text).digest('hex');
    expect(otherKey).not.toBe(entry.key);
    await writeCheckedJson(file, FORMAT, { key: otherKey, raw: { ...entry.raw, game: 'from-the-cache' } });
    expect(await scannedGame(dir)).toBe('validated-cache');
  });
});
