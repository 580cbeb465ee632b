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
    expect(r.stderr).toContain(`error[cli.out-exists]: ${mine}: exists and gamelayer k8s --fill did not write it (no "# Filled by gamelayer k8s --fill" header, no gamelayer.dev/filled-from annotation); the filled fleet.yaml would replace it`);
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

// A filled JSON manifest began with the YAML comment line: `JSON.parse` (and any strict JSON reader) refused it.
// Its mark is now an annotation of the object, and the next fill knows the file by it.
describe('k8s --fill --out of a JSON manifest', () => {
  const DEPLOYMENT = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'game', annotations: { team: 'blue' } },
    spec: { template: { spec: { containers: [{ name: 'engine', image: 'gamelayer://server' }] } } },
  };

  it('writes valid JSON carrying the filled-from annotation, fills it again, and refuses a JSON file of the user\'s', async () => {
    await writeFile(path.join(dir, 'game.json'), `${JSON.stringify(DEPLOYMENT, null, 2)}\n`);
    const r = await runCli(['k8s', '--fill', 'game.json', '--out', 'json', '--local'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = path.join(dir, 'json', 'game.json');
    const written = await readFile(out, 'utf8');
    const doc = JSON.parse(written) as typeof DEPLOYMENT & { metadata: { annotations: Record<string, string> } };
    expect(doc.metadata.annotations).toEqual({ 'gamelayer.dev/filled-from': expect.stringMatching(/^game\.json \(build foreign \S+\)$/), team: 'blue' });
    expect(doc.spec.template.spec.containers[0]!.image).toMatch(/^localhost:5000\/foreign@sha256:[a-f0-9]{64}$/);

    // Filled again into the same folder, and its own output filled into another: one annotation, the same bytes.
    const again = await runCli(['k8s', '--fill', 'game.json', '--out', 'json', '--local'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(written);
    const twice = await runCli(['k8s', '--fill', 'json/game.json', '--out', 'json2', '--local'], { cwd: dir });
    expect(twice.code, twice.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'json2', 'game.json'), 'utf8')).toBe(written);

    // A JSON manifest of the user's own there is refused as a YAML one is.
    await mkdir(path.join(dir, 'json-own'));
    const mine = path.join(dir, 'json-own', 'game.json');
    const own = `${JSON.stringify(DEPLOYMENT)}\n`;
    await writeFile(mine, own);
    const refused = await runCli(['k8s', '--fill', 'game.json', '--out', 'json-own', '--local'], { cwd: dir });
    expect(refused.stderr).toContain(`error[cli.out-exists]: ${mine}: exists and gamelayer k8s --fill did not write it`);
    expect(refused.code).toBe(2);
    expect(await readFile(mine, 'utf8')).toBe(own);
  });

  it('a JSON manifest with no metadata gets one holding the annotation', async () => {
    await writeFile(path.join(dir, 'bare.json'), '{"kind": "Pod", "spec": {"containers": [{"name": "e", "image": "gamelayer://server"}]}}\n');
    const r = await runCli(['k8s', '--fill', 'bare.json', '--out', 'json-bare', '--local'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(await readFile(path.join(dir, 'json-bare', 'bare.json'), 'utf8')) as { metadata: { annotations: Record<string, string> } };
    expect(Object.keys(doc.metadata.annotations)).toEqual(['gamelayer.dev/filled-from']);
  });
});

// `k8s --out DIR` over a manifest `--fill --out DIR` wrote said it "was not written by gamelayer".
describe('k8s --out over a filled manifest', () => {
  it('says the file was filled by k8s --fill and what to do', async () => {
    await writeFile(path.join(dir, 'pod.yaml'), 'image: gamelayer://server\n');
    const fill = await runCli(['k8s', '--fill', 'pod.yaml', '--out', 'mixed', '--local'], { cwd: dir });
    expect(fill.code, fill.stderr).toBe(0);
    const filled = path.join(dir, 'mixed', 'pod.yaml');
    const before = await readFile(filled, 'utf8');
    const r = await runCli(['k8s', '--out', 'mixed', '--local'], { cwd: dir });
    expect(r.stderr).toContain(`error[cli.out-exists]: ${filled}: a manifest gamelayer k8s --fill filled (--fill … --out ${path.join(dir, 'mixed')}); writing the spec there would replace it`);
    expect(r.stderr).toContain('hint: write the spec into a folder of its own (--out another folder)');
    expect(r.stderr).not.toContain('not written by gamelayer');
    expect(r.code).toBe(2);
    expect(await readFile(filled, 'utf8')).toBe(before);
  });
});
