// gc keeps the records of builds whose images are in another config's store (gc-shared-state-stores.test.ts). It
// kept the records of builds whose store was gone (its folder deleted or moved) too, for ever: nothing told a live
// store from a gone one. A record names its store now: gc removes the records of a store that is gone (orphans: a
// JSON field and a line of their own, listed by a dry run) and keeps another live store's; a record of an older
// version, which names no store, is kept and listed as such.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

interface GcJson {
  keptBuilds: string[];
  keptElsewhere: string[];
  orphans: { tag: string; store: string; file: string }[];
  unknownStore: string[];
}

describe('gc of a state folder holding the records of a store that is gone', () => {
  it('removes those records with --apply, and keeps the live stores\' and the older ones that name no store', async () => {
    const dir = await tempDir('gl-gc-orphans-');
    await writeTinyGame(dir, ['game: orphans', 'start: [/opt/local/engine/run]']);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    for (const name of ['second', 'third', 'fourth']) {
      await writeFile(path.join(dir, `${name}.yaml`), yaml.replace('game: orphans\n', `game: orphans\nstore: ${name}-store\n`));
    }
    const run = (...args: string[]) => runCli(args, { cwd: dir });
    const ok = (...args: string[]) => cliOk(dir, args);
    await ok('build', '--tag', 'a1');
    await ok('-c', 'second.yaml', 'build', '--tag', 'b1');
    // The third store's build made again from the registry's record: a no-op, noted beside its pointer (last-run.ts).
    for (let i = 0; i < 2; i++) await ok('-c', 'third.yaml', 'build', '--tag', 'c1', '--push', `${registry.host}/studio/orphans`);
    await ok('-c', 'fourth.yaml', 'build', '--tag', 'd1');
    const records = path.join(dir, '.gamelayer', 'records');
    // Another store's records have names of its own (record-name.ts).
    const named = async (tag: string) => (await readdir(records)).find((n) => n.startsWith(`build-${tag}@`))!;
    const [b1, c1] = [await named('b1'), await named('c1')];
    // d1 as an older version wrote it: no store named, under the one name of its tag.
    const d1File = await named('d1');
    const d1 = JSON.parse(await readFile(path.join(records, d1File), 'utf8')) as Record<string, unknown>;
    expect(d1.store).toBe('../fourth-store');
    delete d1.store;
    await writeFile(path.join(records, 'build-d1.json'), JSON.stringify(d1));
    await rm(path.join(records, d1File));
    // The third and fourth stores are deleted.
    await rm(path.join(dir, 'third-store'), { recursive: true });
    await rm(path.join(dir, 'fourth-store'), { recursive: true });
    const pointers = (await readdir(records)).filter((n) => n.startsWith('build-last')).length;
    const thirdNote = `rerun-last${c1.slice('build-c1'.length)}`;
    expect(await readdir(records)).toContain(thirdNote);

    const dry = await run('gc', '--json', '--exit-code');
    const planned = JSON.parse(dry.stdout) as GcJson;
    expect(planned.orphans).toEqual([{ tag: 'c1', store: path.join(dir, 'third-store'), file: path.join(records, c1) }]);
    expect(planned.keptElsewhere).toEqual(['b1']);
    expect(planned.unknownStore).toEqual(['d1']);
    expect(dry.code).toBe(3);
    expect((await readdir(records)).includes(c1)).toBe(true);

    // A build named by --tag is kept, its store gone or not.
    const kept = JSON.parse(await ok('gc', '--json', '--tag', 'c1')) as GcJson;
    expect(kept.orphans).toEqual([]);
    expect(kept.keptElsewhere).toEqual(['c1', 'b1']);

    const text = await ok('gc', '--apply');
    expect(text).toContain(`removed 1 record of builds whose images are in no store (${path.join(dir, 'third-store')}: gone, or holding none of them): c1\n`);
    expect(text).toContain('kept 1 record of builds in other stores: b1\n');
    expect(text).toContain('kept 1 record of builds not in this store that name no store (written before gamelayer recorded it): d1;');
    const left = await readdir(records);
    expect(left.filter((n) => /^build-[a-d]1(@[0-9a-f]+)?\.json$/.test(n)).sort()).toEqual(['build-a1.json', b1, 'build-d1.json']);
    // The gone store's last-build pointer went with its record; the others' stay.
    expect(left.filter((n) => n.startsWith('build-last')).length).toBe(pointers - 1);
    expect(left.filter((n) => n.startsWith('rerun-last'))).toEqual([]);
    expect(JSON.parse(await ok('-c', 'second.yaml', 'inspect', '--json')).tags[0]).toBe('b1');
    expect(JSON.parse(await ok('inspect', '--json')).tags[0]).toBe('a1');

    // A store without a last-build pointer (deleted; or a store of its own, none built into it since the upgrade):
    // gc failed with "no build yet", since build-last.json used to be every store's.
    await rm(path.join(records, 'build-last.json'));
    expect((JSON.parse(await ok('gc', '--json')) as GcJson).keptBuilds).toEqual(['a1']);
  }, 120_000);
});
