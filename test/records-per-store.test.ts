// Two configs beside each other share the state folder (.gamelayer/records) but may name stores of their own
// (`store:`). There was one record per tag, `build-<tag>.json`: the second config's `build --tag v9` overwrote the
// first's record of v9 (and the default tag `latest` made that common). The first config's `ls` then listed its own v9
// as another store's image, `inspect v9` showed the other build, and `push v9` read the other build's record. A store
// other than the default now has record names of its own (`build-<tag>@<key>.json`, state/record-name.ts).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

interface Rec {
  images: { name: string; digest: string }[];
  store?: string;
  pushed?: { repository: string; images: { name: string; digest: string }[] }[];
}
const serverOf = (r: Rec) => r.images.find((i) => i.name === 'server')!.digest;

/** A folder with two configs of one game, the second with a store of its own and other app content. */
async function twoConfigs(prefix: string, repo: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: records-per-store', 'start: [/opt/local/engine/run]', `registry: ${repo}`]);
  await writeFile(path.join(dir, 'app', 'other.txt'), 'only in the second config\n');
  const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
  await writeFile(path.join(dir, 'b.yaml'), yaml.replace('game: records-per-store\n', 'game: records-per-store\nstore: b-store\n'));
  await writeFile(path.join(dir, 'gamelayer.yaml'), yaml.replace('app: {source: app}', 'app: {source: app, exclude: [other.txt]}'));
  return dir;
}

describe('records of one tag built by two configs sharing a state folder', () => {
  it("are each config's own: ls, inspect and push of one never take the other's", async () => {
    const repo = `${registry.host}/studio/records-per-store`;
    const dir = await twoConfigs('gl-records-per-store-', repo);
    const records = path.join(dir, '.gamelayer', 'records');
    const ok = (...args: string[]) => cliOk(dir, args);
    await ok('build', '--tag', 'v9');
    const a = JSON.parse(await readFile(path.join(records, 'build-v9.json'), 'utf8')) as Rec;
    await ok('-c', 'b.yaml', 'build', '--tag', 'v9');

    // ls: v9 is the first config's own build, listed once; the second config's the same of its own.
    const lsA = JSON.parse(await ok('ls', '--json')) as { tags: { tag: string; image: string; build?: string }[]; builds: { tag: string; file: string }[] };
    expect(lsA.tags.find((t) => t.tag === 'v9')).toMatchObject({ image: 'server', build: 'v9' });
    expect(lsA.builds.map((x) => x.file)).toEqual([path.join(records, 'build-v9.json')]);
    // inspect v9: the first config's own build.
    expect(serverOf(JSON.parse(await ok('inspect', 'v9', '--json')) as Rec)).toBe(serverOf(a));

    // Two records of v9: the first config's kept its name.
    const v9 = (await readdir(records)).filter((n) => /^build-v9(@[0-9a-f]{12})?\.json$/.test(n)).sort();
    expect(v9).toHaveLength(2);
    expect(serverOf(JSON.parse(await readFile(path.join(records, 'build-v9.json'), 'utf8')) as Rec)).toBe(serverOf(a));
    const b = JSON.parse(await readFile(path.join(records, v9[1]!), 'utf8')) as Rec;
    expect(b.store).toBe('../b-store');
    expect(serverOf(b)).not.toBe(serverOf(a));

    const lsB = JSON.parse(await ok('-c', 'b.yaml', 'ls', '--json')) as typeof lsA;
    expect(lsB.tags.find((t) => t.tag === 'v9')).toMatchObject({ image: 'server', build: 'v9' });
    expect(lsB.builds.map((x) => x.file)).toEqual([path.join(records, v9[1]!)]);
    expect(serverOf(JSON.parse(await ok('-c', 'b.yaml', 'inspect', 'v9', '--json')) as Rec)).toBe(serverOf(b));

    // push v9 from the first config pushes its build: its record notes the push, the other's does not.
    await ok('push', 'v9');
    const pushedA = JSON.parse(await readFile(path.join(records, 'build-v9.json'), 'utf8')) as Rec;
    expect(pushedA.pushed?.[0]?.images.find((i) => i.name === 'server')?.digest).toBe(serverOf(a));
    expect((JSON.parse(await readFile(path.join(records, v9[1]!), 'utf8')) as Rec).pushed).toBeUndefined();
  }, 180_000);

  it("reads another store's record an older version wrote as build-<tag>.json, and moves it before overwriting", async () => {
    const dir = await twoConfigs('gl-records-per-store-old-', `${registry.host}/studio/records-per-store-old`);
    const records = path.join(dir, '.gamelayer', 'records');
    const ok = (...args: string[]) => cliOk(dir, args);
    await ok('-c', 'b.yaml', 'build', '--tag', 'w1');
    // As the version before left it: the second store's record under the one name of the tag, naming its store (last).
    const own = (await readdir(records)).find((n) => n.startsWith('build-w1@'));
    expect(own, 'the second store has a name of its own').toBeDefined();
    // A build writes its store first, in the head whose record it is read from; stop 47 wrote it last.
    const written = await readFile(path.join(records, own!), 'utf8');
    expect(written.startsWith('{"kind":"build","store":"../b-store",')).toBe(true);
    const { store, ...rest } = JSON.parse(written) as Rec;
    await writeFile(path.join(records, 'build-w1.json'), JSON.stringify({ ...rest, store }));
    await rm(path.join(records, own!));
    const b = JSON.parse(await readFile(path.join(records, 'build-w1.json'), 'utf8')) as Rec;
    expect(serverOf(JSON.parse(await ok('-c', 'b.yaml', 'inspect', 'w1', '--json')) as Rec)).toBe(serverOf(b));

    // The first config's build of w1 takes that name; the second store's record moves to its own name, unchanged.
    await ok('build', '--tag', 'w1');
    expect((await readdir(records)).filter((n) => n.startsWith('build-w1')).sort()).toEqual(['build-w1.json', own!]);
    expect(serverOf(JSON.parse(await readFile(path.join(records, own!), 'utf8')) as Rec)).toBe(serverOf(b));
    expect(serverOf(JSON.parse(await ok('-c', 'b.yaml', 'inspect', 'w1', '--json')) as Rec)).toBe(serverOf(b));
    expect(serverOf(JSON.parse(await ok('inspect', 'w1', '--json')) as Rec)).not.toBe(serverOf(b));
  }, 120_000);
});
