// A scratch base with a start script: its #! interpreter (/bin/sh) is in no layer, and Docker's only words are
// "exec …/start.sh: no such file or directory", of a file that is there. The old code said so only in run-local's
// hint, after the engine failed; build, dockerfile and load now warn once, up front (the build goes on), naming the
// config file, the start field and the interpreter. The sample as it ships (its launcher as the start) stays quiet.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { removeImages } from './support/docker-images.js';
import { startRegistry } from './support/registry.js';
import { copySample, SAMPLE_SCRIPT_START_LINE, SAMPLE_START_LINE } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];
const count = (text: string, part: string) => text.split(part).length - 1;

function warning(dir: string, program: string): string {
  return `warning: ${path.join(dir, 'gamelayer.yaml')}: start: ${program} is a script for /bin/sh (its #! line), which no tree holds and baseImage scratch has not`;
}
const HINT = 'use a baseImage that has /bin/sh (busybox, debian-slim, ...) or put /bin/sh into a tree';

async function folderGame(run: string, extra: (dir: string) => Promise<void> = async () => {}, mounts = ''): Promise<string> {
  const dir = await tempDir('gl-start-interp-');
  for (const t of TREES) await mkdir(path.join(dir, t));
  await writeFile(path.join(dir, 'engine', 'run'), run);
  await chmod(path.join(dir, 'engine', 'run'), 0o755);
  await extra(dir);
  await writeFile(path.join(dir, 'gamelayer.yaml'), ['game: start-interp', 'start: [/opt/local/engine/run]', 'trees:', ...TREES.map((t) => `  ${t}: {source: ${t}}`), mounts, ''].join('\n'));
  return dir;
}

describe('a start script whose interpreter no layer holds', () => {
  it('the sample as it ships (scratch, its launcher) builds with a clean stderr', async () => {
    const dir = await tempDir('gl-start-shipped-');
    copySample(dir);
    const build = await runCli(['build', '--json'], { cwd: dir }); // --json: no progress lines, warnings still on stderr
    expect(build.code, build.stderr).toBe(0);
    expect(build.stderr).toBe('');
  });

  it('the sample started by its start.sh (in the engine tarball): build --json, dockerfile and load warn once, and go on', async () => {
    const dir = await tempDir('gl-start-sample-');
    copySample(dir);
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('game: sample-game', 'game: start-interp-sample').replace(SAMPLE_START_LINE, SAMPLE_SCRIPT_START_LINE));
    const WARNING = warning(dir, '/opt/local/engine/start.sh');
    const build = await runCli(['build', '--json', '--tag', 'w1'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);
    expect(count(build.stderr, WARNING), build.stderr).toBe(1);
    expect(build.stderr).toContain(`${HINT} (a tree's mount may be / or /bin), or start a static binary`);
    expect(build.stderr).toContain('Docker says "exec /opt/local/engine/start.sh: no such file or directory"');
    JSON.parse(build.stdout); // stdout stays JSON
    // Again (a no-op build: the archive is not read, the verdict comes from the cache): still said.
    const again = await runCli(['build', '--tag', 'w1'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(count(again.stderr, WARNING)).toBe(1);
    const df = await runCli(['dockerfile', '--out', 'df'], { cwd: dir });
    expect(df.code, df.stderr).toBe(0);
    expect(count(df.stderr, WARNING)).toBe(1);
    try {
      const load = await runCli(['load', '--tag', 'w1'], { cwd: dir });
      expect(load.code, load.stderr).toBe(0);
      expect(count(load.stderr, WARNING)).toBe(1);
    } finally {
      await removeImages(['w1', 'w1-engine', 'w1-engine-media', 'w1-app', 'w1-app-media'].map((t) => `start-interp-sample:${t}`));
    }
  });

  it('build --push warns once too, cold and as a no-op (the check runs once the registry lookup has asked its questions)', async () => {
    const dir = await folderGame('#!/bin/sh\nexec ./server\n');
    const WARNING = warning(dir, '/opt/local/engine/run');
    const registry = await startRegistry();
    try {
      for (const run of ['cold', 'no-op']) {
        const r = await runCli(['build', '--tag', 'p1', '--push', `${registry.host}/studio/start-interp`], { cwd: dir });
        expect(r.code, `${run}: ${r.stderr}`).toBe(0);
        expect(count(r.stderr, WARNING), `${run}: ${r.stderr}`).toBe(1);
        if (run === 'no-op') expect(r.stdout).toMatch(/ 0 B sent/);
      }
    } finally {
      await registry.stop();
    }
  });

  it('a folder tree: #!/bin/sh warns; an interpreter a tree holds, or no #! line, does not', async () => {
    const sh = await folderGame('#!/bin/sh\nexec ./server\n');
    const r = await runCli(['dockerfile', '--out', 'df'], { cwd: sh });
    expect(r.code, r.stderr).toBe(0);
    expect(count(r.stderr, warning(sh, '/opt/local/engine/run'))).toBe(1);

    const own = await folderGame('#!/opt/local/engine/busybox sh\nexec ./server\n', (d) => writeFile(path.join(d, 'engine', 'busybox'), '\x7fELF'));
    const r2 = await runCli(['dockerfile', '--out', 'df'], { cwd: own });
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).not.toContain('warning:');

    // /bin/sh from a fifth place: a tree mounted at / that holds bin/sh.
    const rooted = await folderGame('#!/bin/sh\nexec ./server\n', async (d) => {
      await mkdir(path.join(d, 'app-media', 'bin'));
      await writeFile(path.join(d, 'app-media', 'bin', 'sh'), '\x7fELF');
    });
    await writeFile(path.join(rooted, 'gamelayer.yaml'), (await readFile(path.join(rooted, 'gamelayer.yaml'), 'utf8')).replace('app-media: {source: app-media}', 'app-media: {source: app-media, mount: /}'));
    const r3 = await runCli(['dockerfile', '--out', 'df'], { cwd: rooted });
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stderr).not.toContain('warning:');

    const binary = await folderGame('\x7fELF\x02\x01\x01');
    const r4 = await runCli(['dockerfile', '--out', 'df'], { cwd: binary });
    expect(r4.code, r4.stderr).toBe(0);
    expect(r4.stderr).not.toContain('warning:');
  });

  it('a start string with blanks on scratch runs through /bin/sh: warned too', async () => {
    const dir = await folderGame('\x7fELF\x02\x01\x01');
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('start: [/opt/local/engine/run]', 'start: "/opt/local/engine/run -port 7777"'));
    const r = await runCli(['dockerfile', '--out', 'df'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(count(r.stderr, `warning: ${yaml}: start: "/opt/local/engine/run -port 7777" runs through /bin/sh (one string with blanks), which no tree holds and baseImage scratch has not`)).toBe(1);
  });
});
