// Two configs beside each other share the state folder (.gamelayer/records) but may name stores of their own
// (`store:`). The last-build pointer (records/build-last.json) was one for both: config B's build became config A's
// "previous build": A's `diff` compared A's trees with B's build, A's next build planned on it, and A's `inspect`
// and deploy commands took it as A's last build. Each store has its pointer now (state/last-build.ts): the default
// store keeps build-last.json, another store has build-last@<key>.json, and an older build-last.json is the
// default store's only.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('the last build of two configs sharing one state folder', () => {
  it("is each store's own: diff, build and inspect of one config never take the other's build", async () => {
    const dir = await tempDir('gl-last-per-store-');
    await writeTinyGame(dir, ['game: last-per-store', 'start: [/opt/local/engine/run]']);
    await writeFile(path.join(dir, 'app', 'other.txt'), 'only in the second config\n');
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    // The second config: its own store, and an app tree of other content (the first's app without other.txt).
    await writeFile(path.join(dir, 'second.yaml'), yaml.replace('game: last-per-store\n', 'game: last-per-store\nstore: second-store\n'));
    await writeFile(path.join(dir, 'gamelayer.yaml'), yaml.replace('app: {source: app}', 'app: {source: app, exclude: [other.txt]}'));
    const run = (...args: string[]) => runCli(args, { cwd: dir });
    const ok = (...args: string[]) => cliOk(dir, args);
    await ok('build', '--tag', 'a1');
    await ok('-c', 'second.yaml', 'build', '--tag', 'b1');

    // The first config's trees are a1's: nothing changed, whatever the second config built since.
    const diff = await run('diff', '--exit-code');
    expect(diff.stdout).toContain('build-last.json → working trees');
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
    expect(JSON.parse(await ok('inspect', '--json')).tags[0]).toBe('a1');
    expect(JSON.parse(await ok('-c', 'second.yaml', 'inspect', '--json')).tags[0]).toBe('b1');

    // Its next build plans on a1.
    const a1 = JSON.parse(await readFile(path.join(dir, '.gamelayer', 'records', 'build-a1.json'), 'utf8')) as { createdAt: string };
    const a2 = JSON.parse(await ok('build', '--tag', 'a2', '--json')).summary as { previous: { source: string; createdAt?: string } };
    expect(a2.previous).toMatchObject({ source: 'local', createdAt: a1.createdAt });

    // The second store's pointer is a file of its own; without it, build-last.json (the default store's, as older
    // versions left it for every store) is not taken as the second config's previous build.
    const records = path.join(dir, '.gamelayer', 'records');
    const own = (await readdir(records)).filter((n) => n.startsWith('build-last@'));
    expect(own).toHaveLength(1);
    await rm(path.join(records, own[0]!));
    const b2 = JSON.parse(await ok('-c', 'second.yaml', 'build', '--tag', 'b2', '--json')).summary as { previous: { source: string } };
    expect(b2.previous.source).toBe('none');
  }, 90_000);

  it("takes an older version's build-last.json as a store's own when that build is in the store", async () => {
    const dir = await tempDir('gl-last-legacy-');
    await writeTinyGame(dir, ['game: last-legacy', 'store: custom-store', 'start: [/opt/local/engine/run]']);
    const ok = (...args: string[]) => cliOk(dir, args);
    await ok('build', '--tag', 'v1');
    // As an older version left it: the pointer named build-last.json, its record naming no store.
    const records = path.join(dir, '.gamelayer', 'records');
    const own = (await readdir(records)).filter((n) => n.startsWith('build-last@'));
    expect(own).toHaveLength(1);
    const record = JSON.parse(await readFile(path.join(records, own[0]!), 'utf8')) as Record<string, unknown>;
    delete record.store;
    await writeFile(path.join(records, 'build-last.json'), JSON.stringify(record));
    await rm(path.join(records, own[0]!));

    expect(JSON.parse(await ok('inspect', '--json')).tags[0]).toBe('v1');
    expect((await runCli(['diff', '--exit-code'], { cwd: dir })).code).toBe(0);
    const v1 = JSON.parse(await ok('build', '--tag', 'v1', '--json')).summary as { previous: { source: string; ref?: string } };
    expect(v1.previous).toMatchObject({ source: 'local', ref: path.join(records, 'build-last.json') });
    // That no-op build gave the store its own pointer.
    expect((await readdir(records)).filter((n) => n.startsWith('build-last@'))).toEqual(own);
  }, 60_000);
});
