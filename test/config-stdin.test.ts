// `-c -` looked for a file named "-" (config.missing), so a config made on the fly (`envsubst < tmpl | gamelayer -c -
// build`) had to be written to a file first. Now `-c -` reads it from stdin: relative paths start at the current
// folder, messages name it `<stdin>` with the line and column, and a second reader of stdin beside it is refused.
import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

/** A tiny game whose gamelayer.yaml is taken away: its text is what the test pipes in. */
async function gameWithoutFile(head: string[]): Promise<{ dir: string; yaml: string }> {
  const dir = await tempDir('gl-config-stdin-');
  await writeTinyGame(dir, head);
  const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
  await rm(path.join(dir, 'gamelayer.yaml'));
  return { dir, yaml };
}

describe('-c - reads the config from stdin', () => {
  it('build: the trees and the state folder are found from the current folder', async () => {
    const { dir, yaml } = await gameWithoutFile(['game: from-stdin', 'start: [/opt/local/engine/f.txt]']);
    const r = await runCli(['-c', '-', 'build', '--tag', 'v1'], { cwd: dir, stdin: yaml });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^record .*\/\.gamelayer\/records\//m);
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')) as { game: string };
    expect(record.game).toBe('from-stdin');
    // The same through --config, once more from stdin: nothing changed, every layer reused.
    const again = await runCli(['--config', '-', 'build', '--tag', 'v2'], { cwd: dir, stdin: yaml });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^layers: 0 built, \d+ reused/m);
  });

  it('messages name <stdin> with the line and column; so does the bare targetSize warning', async () => {
    const { dir, yaml } = await gameWithoutFile(['game: from-stdin', 'start: [/opt/local/engine/f.txt]', 'layers: {targetSize: 512}']);
    const warned = await runCli(['-c', '-', 'dockerfile'], { cwd: dir, stdin: yaml });
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain('warning: <stdin>:3:22: layers.targetSize: 512 has no unit, so it is 512 bytes');
    const bad = await runCli(['-c', '-', 'build'], { cwd: dir, stdin: yaml.replace('game: from-stdin', 'game: from-stdin\nplatform: linux/amd64') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error[config.invalid]: <stdin>:2:1: platform: unknown field');
  });

  it('refused beside another reader of stdin, and for a buildspec (which names the config file)', async () => {
    const { dir, yaml } = await gameWithoutFile(['game: from-stdin', 'start: [/opt/local/engine/f.txt]', 'registry: 127.0.0.1:9/studio/game']);
    const push = await runCli(['-c', '-', 'push', 'v1', '--username', 'u', '--password-stdin'], { cwd: dir, stdin: yaml });
    expect(push.code).toBe(2);
    expect(push.stderr).toContain('error[cli.usage]: -c - and --password-stdin both read stdin');
    const fill = await runCli(['-c', '-', 'k8s', '--fill', '-'], { cwd: dir, stdin: yaml });
    expect(fill.code).toBe(2);
    expect(fill.stderr).toContain('error[cli.usage]: -c - and --fill - both read stdin');
    const spec = await runCli(['-c', '-', 'codebuild', 'buildspec'], { cwd: dir, stdin: yaml });
    // A GamelayerError, not a usage error: the command line is well formed, the config's place is what is refused.
    expect(spec.code).toBe(1);
    expect(spec.stderr).toContain('error[buildspec.config-stdin]: <stdin>: the buildspec names the config file');
  });
});

// `-c -` in a terminal waited, without a word, for a config typed in.
describe('-c - with a terminal on stdin', () => {
  it('is refused at once as a usage error, naming what -c - is for', async () => {
    const { dir } = await gameWithoutFile(['game: from-stdin', 'start: [/opt/local/engine/f.txt]']);
    // util-linux script(1) gives the CLI a terminal on stdin (the bound only ends a CLI that waits, as it did).
    const r = spawnSync('script', ['-qfec', `${process.execPath} ${CLI} -c - dockerfile`, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toContain('error[cli.usage]: -c -: stdin is a terminal; -c - reads the config piped in');
    expect(r.status).toBe(2);
  });
});

// `-c -` with stdin an open pipe that delivers nothing (a slow producer, a forgotten `-c -` in a script) waited without
// a word. After a while it says once what it waits for; the config written then is read as ever.
describe('-c - with a pipe that is slow to deliver', () => {
  it('says once on stderr that it reads the config from stdin, then builds from what comes', async () => {
    const { dir, yaml } = await gameWithoutFile(['game: from-stdin', 'start: [/opt/local/engine/f.txt]']);
    const child = spawn(process.execPath, [CLI, '-c', '-', 'dockerfile'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // The pipe is held open, nothing written: wait for the notice (or, on a CLI that never says it, give up after
    // 30 s and write the config anyway, so the assertion below fails rather than the test's timeout).
    const noticed = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('\n')) {
          clearTimeout(giveUp);
          resolve(true);
        }
      });
    });
    const beforeWrite = stderr;
    child.stdin.end(yaml);
    const code = await exited;
    expect(noticed, beforeWrite).toBe(true);
    expect(beforeWrite).toBe('reading the config from stdin (-c -)…\n');
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^wrote .*Dockerfile/m);
    expect(stderr.split('reading the config from stdin').length - 1).toBe(1);
  });
});
