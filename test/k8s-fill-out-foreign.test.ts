// `k8s --fill F --out DIR` writes DIR/<F's name>. The old code replaced whatever file of that name was there, a
// manifest of the user's own included, without a word; only a spec `k8s --out` wrote was refused. Now a fill output
// carries a header of its own, and only such a file (or an empty one) is replaced unless --force.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const MINE = '# my own manifest, kept by hand\nkind: ConfigMap\n';
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-fill-foreign-');
  await writeTinyGame(dir, ['game: foreign', 'start: [/opt/local/engine/run]', 'registry: localhost:5000/foreign']);
  await writeFile(path.join(dir, 'fleet.yaml'), 'image: gamelayer://server\n');
  const r = await runCli(['build'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

describe('k8s --fill --out never replaces a file a fill did not write', () => {
  it("a user's own file of the input's name is refused, named, and left as it was; --force replaces it", async () => {
    await mkdir(path.join(dir, 'deploy'));
    const mine = path.join(dir, 'deploy', 'fleet.yaml');
    await writeFile(mine, MINE);
    const r = await runCli(['k8s', '--fill', 'fleet.yaml', '--out', 'deploy', '--local'], { cwd: dir });
    expect(r.stderr).toContain(`error[cli.out-exists]: ${mine}: exists and gamelayer k8s --fill did not write it (no "# Filled by gamelayer k8s --fill" header); the filled fleet.yaml would replace it`);
    expect(r.code).toBe(2);
    expect(await readFile(mine, 'utf8')).toBe(MINE);

    const forced = await runCli(['k8s', '--fill', 'fleet.yaml', '--out', 'deploy', '--local', '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(mine, 'utf8')).toMatch(/^# Filled by gamelayer k8s --fill from fleet\.yaml \(build foreign \S+\); fill it again rather than editing\.\nimage: localhost:5000\/foreign@sha256:[a-f0-9]{64}\n$/);
  });

  it('stdin.yaml of the user\'s own is refused for --fill -', async () => {
    await mkdir(path.join(dir, 'piped'));
    const mine = path.join(dir, 'piped', 'stdin.yaml');
    await writeFile(mine, MINE);
    const r = await runCli(['k8s', '--fill', '-', '--out', 'piped', '--local'], { cwd: dir, stdin: 'image: gamelayer://app\n' });
    expect(r.stderr).toContain(`error[cli.out-exists]: ${mine}: exists and gamelayer k8s --fill did not write it`);
    expect(r.code).toBe(2);
    expect(await readFile(mine, 'utf8')).toBe(MINE);
  });

  it('what a fill wrote there is filled again without --force, under one header', async () => {
    const first = await runCli(['k8s', '--fill', 'fleet.yaml', '--out', 'filled', '--local'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const written = await readFile(path.join(dir, 'filled', 'fleet.yaml'), 'utf8');
    const again = await runCli(['k8s', '--fill', 'fleet.yaml', '--out', 'filled', '--local'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'filled', 'fleet.yaml'), 'utf8')).toBe(written);
    // An output filled into another folder keeps one header.
    const twice = await runCli(['k8s', '--fill', 'filled/fleet.yaml', '--out', 'twice', '--local'], { cwd: dir });
    expect(twice.code, twice.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'twice', 'fleet.yaml'), 'utf8')).toBe(written);
  });
});
