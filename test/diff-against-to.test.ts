// `diff --against A --to B` compares two pushed builds: the changed files, the layers and the pull cost are all A
// against B, read from their build records. The tables showed A against the working trees (B only in the pull cost),
// so a change not yet built was listed as a change of B, and B's own changes could be missing.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

interface DiffJson {
  before: string;
  after: string;
  changed: boolean;
  trees: { label: string; added: { path: string }[]; modified: { after: { path: string } }[]; removed: { path: string }[] }[];
  layers: { reused: number; rebuilt: number; bytesToBuild: number; layers: { tree: string; status: string; patch?: boolean; bytes: number }[] };
  pullCost: { pod: { newLayers: number } };
  pullCostTo: string;
}

describe('diff --against A --to B', () => {
  it('the files, layers and pull cost are between the two builds, not the working trees', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'game');
    copySample(dir);
    const repo = `${registry.host}/studio/againstto`;
    expect((await runCli(['build', '--push', repo, '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'app-media/levels/harbor/extra.pak'), Buffer.alloc(9000, 9));
    const v2 = await runCli(['build', '--push', repo, '--tag', 'v2', '--json'], { cwd: dir });
    expect(v2.code).toBe(0);
    // A change of the working trees that no build holds: not part of v1 → v2.
    const xml = path.join(dir, 'app/config/game.xml');
    await writeFile(xml, `${await readFile(xml, 'utf8')}<!-- not built -->\n`);

    // From a folder with no gamelayer.yaml and no local state: the two records are all it reads.
    const elsewhere = path.join(root, 'elsewhere');
    await mkdir(elsewhere);
    const r = await runCli(['diff', '--against', `${repo}:v1`, '--to', `${repo}:v2`, '--json'], { cwd: elsewhere });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as DiffJson;
    expect([out.before, out.after, out.pullCostTo]).toEqual([`${repo}:v1`, `${repo}:v2`, `${repo}:v2`]);
    const changes = out.trees.flatMap((t) => [...t.added.map((e) => `${t.label} + ${e.path}`), ...t.modified.map((e) => `${t.label} ~ ${e.after.path}`), ...t.removed.map((e) => `${t.label} - ${e.path}`)]);
    expect(changes).toEqual(['app-media + levels/harbor/extra.pak']);
    // v2's layers: the app-media patch is new, every other layer is v1's; the same as the build said it made.
    const built = (JSON.parse(v2.stdout) as { summary: { layers: { tree: string; reused: boolean }[] } }).summary.layers;
    const rebuilt = out.layers.layers.filter((l) => l.status === 'rebuilt');
    expect(rebuilt.map((l) => [l.tree, l.patch])).toEqual([['app-media', true]]);
    expect(built.filter((l) => !l.reused).map((l) => l.tree)).toContain('app-media');
    expect(out.layers.reused).toBe(out.layers.layers.length - 1);
    expect(out.layers.bytesToBuild).toBe(9000);
    expect(out.pullCost.pod.newLayers).toBe(2); // the app-media patch and its new sentinel

    const text = await runCli(['diff', '--against', `${repo}:v1`, '--to', `${repo}:v2`, '--exit-code'], { cwd: elsewhere });
    expect(text.code).toBe(3);
    expect(text.stdout.split('\n')[0]).toBe(`${repo}:v1 → ${repo}:v2`);
    expect(text.stdout).toMatch(new RegExp(`^tree +layer +files +content +in ${repo.replace(/[.]/g, '\\.')}:v2$`, 'm'));
    expect(text.stdout).toContain(`layers of ${repo}:v2: ${out.layers.reused} reused from ${repo}:v1, 1 new (1 patch); 8.79 KiB of new content`);
    expect(text.stdout).not.toContain('game.xml');
    expect(text.stdout).toContain(`pull cost: a node running ${repo}:v1 pulls to run ${repo}:v2 (linux/amd64):`);

    // The same build on both sides: nothing changed, every layer reused, nothing to pull.
    const same = JSON.parse((await runCli(['diff', '--against', `${repo}:v2`, '--to', `${repo}:v2`, '--json'], { cwd: elsewhere })).stdout) as DiffJson;
    expect(same.changed).toBe(false);
    expect(same.layers.rebuilt).toBe(0);
    expect(same.pullCost.pod.newLayers).toBe(0);

    // Without --to: still the working trees against v1 (the unbuilt game.xml edit shows).
    const working = JSON.parse((await runCli(['diff', '--against', `${repo}:v1`, '--json'], { cwd: dir })).stdout) as DiffJson;
    expect(working.after).toBe('working trees');
    expect(working.trees.find((t) => t.label === 'app')!.modified.map((e) => e.after.path)).toEqual(['config/game.xml']);
  });
});
