// `k8s --fill A B --out DIR` writes each manifest to DIR/<its file name>. The old code wrote `a/fleet.yaml` and
// `b/fleet.yaml` both to DIR/fleet.yaml (the second over the first, each announced as written), and `--fill - -`
// read stdin twice and wrote the second, empty reading over the filled first.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-fill-clash-');
  await writeTinyGame(dir, ['game: clash', 'start: [/opt/local/engine/run]', 'registry: localhost:5000/clash']);
  for (const [sub, image] of [['a', 'server'], ['b', 'app']]) {
    await mkdir(path.join(dir, sub!));
    await writeFile(path.join(dir, sub!, 'fleet.yaml'), `image: gamelayer://${image}\n`);
  }
  const r = await runCli(['build'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

describe('k8s --fill into --out: one output per input', () => {
  it('two inputs of one file name: refused before anything is written', async () => {
    const r = await runCli(['k8s', '--fill', 'a/fleet.yaml', 'b/fleet.yaml', '--out', 'filled', '--local'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[fill.usage]: --fill a/fleet.yaml and b/fleet.yaml: both would be written to ${path.join('filled', 'fleet.yaml')}, the second over the first`);
    expect(existsSync(path.join(dir, 'filled'))).toBe(false);
  });

  it('stdin twice: refused (the second reading was empty and replaced the first)', async () => {
    const r = await runCli(['k8s', '--fill', '-', '-', '--out', 'filled', '--local'], { cwd: dir, stdin: 'image: gamelayer://server\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[fill.usage]: --fill: "-" (stdin) given twice');
    expect(existsSync(path.join(dir, 'filled'))).toBe(false);
  });

  it('one file named twice is one output; distinct names each get theirs', async () => {
    const r = await runCli(['k8s', '--fill', 'a/fleet.yaml', './a/fleet.yaml', '-', '--out', 'filled', '--local'], { cwd: dir, stdin: 'image: gamelayer://engine\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'filled', 'fleet.yaml'), 'utf8')).toMatch(/^# Filled by gamelayer k8s --fill .*\nimage: localhost:5000\/clash@sha256:[a-f0-9]{64}\n$/);
    expect(await readFile(path.join(dir, 'filled', 'stdin.yaml'), 'utf8')).toMatch(/^# Filled by gamelayer k8s --fill .*\nimage: localhost:5000\/clash@sha256:[a-f0-9]{64}\n$/);
  });
});
