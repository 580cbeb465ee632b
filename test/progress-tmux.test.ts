// Progress as a person sees it: the real CLI in a real terminal (tmux) at 80 and 160 columns, the screen captured
// after the push: one overall push bar (bytes, MB/s, ETA), per-image bars only when the terminal is wide, nothing
// wider than the terminal, retries with their reason; and in CI the lines carry sizes and a moved tag is noted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, sleep } from './support/cli-process.js';
import { freePort, startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

const SOCKET = `gl-progress-${process.pid}`;
let dir: string;
let registry: TestRegistry;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

/** Runs the CLI in a detached tmux window of `width` columns; returns the screen once it printed its exit status. */
async function screen(width: number, args: string[], setting = ''): Promise<string> {
  const name = `w${width}-${Math.random().toString(36).slice(2, 8)}`;
  const command = `cd ${dir} && env -u CI -u CODEBUILD_BUILD_ID ${setting} ${process.execPath} ${CLI} ${args.join(' ')}; echo "EXIT=$?"; sleep 300`;
  tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '50', command);
  try {
    for (;;) {
      const shown = tmux('capture-pane', '-p', '-t', name);
      if (/^EXIT=\d+$/m.test(shown)) return shown;
      await sleep(100);
    }
  } finally {
    tmux('kill-session', '-t', name);
  }
}

beforeAll(async () => {
  dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  await writeFile(path.join(dir, 'app-media/levels/big.pak'), randomBytes(24 << 20));
  registry = await startRegistry();
  expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
}, 120_000);
afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // no server left
  }
  await registry?.stop();
});

const lines = (s: string) => s.split('\n').map((l) => l.trimEnd());

describe('progress in a terminal', () => {
  it('80 columns: one overall push bar with bytes, MB/s and ETA; no line wider than the terminal', async () => {
    const shown = await screen(80, ['build', '--tag', 'v1', '--push', `${registry.host}/studio/narrow`]);
    if (process.env.GL_SHOW_SCREEN) console.log(shown);
    expect(shown).toMatch(/^EXIT=0$/m);
    const bar = lines(shown).filter((l) => /^ push +\|/.test(l));
    expect(bar).toHaveLength(1);
    expect(bar[0]).toMatch(/\| 100% [\d.]+ MiB\/[\d.]+ MiB [\d.]+ MB\/s ETA 0s$/);
    expect(lines(shown).some((l) => /^ {3}v1-app-media/.test(l))).toBe(false); // no per-image bars
    expect(shown).toMatch(/sent in [\d.]+s \([\d.]+ MB\/s\)/);
    for (const l of lines(shown)) expect([...l].length).toBeLessThanOrEqual(80);
  }, 120_000);

  it('160 columns: the push bar and one bar per image', async () => {
    const shown = await screen(160, ['build', '--tag', 'v1', '--push', `${registry.host}/studio/wide`]);
    if (process.env.GL_SHOW_SCREEN) console.log(shown);
    expect(shown).toMatch(/^EXIT=0$/m);
    expect(lines(shown).filter((l) => /^ push +\|/.test(l))).toHaveLength(1);
    for (const image of ['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media']) {
      expect(lines(shown).filter((l) => new RegExp(`^ {3}${image.replaceAll('.', '\\.')} +\\|.*\\| 100% `).test(l))).toHaveLength(1);
    }
    for (const l of lines(shown)) expect([...l].length).toBeLessThanOrEqual(160);
  }, 120_000);

  it('retries show their reason', async () => {
    const port = await freePort();
    // Three attempts (GAMELAYER_REGISTRY_RETRIES): the count shown is the setting's, and the default six only wait longer.
    const shown = await screen(80, ['push', `127.0.0.1:${port}/studio/game:v1`, '--image', 'v1'], 'GAMELAYER_REGISTRY_RETRIES=3');
    expect(shown).toMatch(/^EXIT=1$/m);
    expect(shown).toMatch(new RegExp(`^retry 2/3 in [\\d.]+s: .*127\\.0\\.0\\.1:${port}: ECONNREFUSED$`, 'm'));
    expect(shown).toMatch(/^retry 3\/3 in /m);
    expect(shown).not.toMatch(/^retry 4\//m);
    expect(shown).toContain('error[registry.unreachable]');
  }, 120_000);
});

describe('progress in CI', () => {
  it('one line per blob with its size and rate; a moved tag is noted', async () => {
    const repo = `${registry.host}/studio/ci`;
    const first = await runCli(['push', `${repo}:v1`, '--image', 'v1'], { cwd: dir, env: { CI: 'true' } });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^blob [0-9a-f]{12} \(v1\): uploaded 24\.\d+ MiB \([\d.]+s, [\d.]+ MB\/s\)$/m);
    expect(first.stderr).toMatch(/sent in [\d.]+s \([\d.]+ MB\/s\)$/m);
    const moved = await runCli(['push', `${repo}:v1`, '--image', 'v1-app'], { cwd: dir, env: { CI: 'true' } });
    expect(moved.code).toBe(0);
    expect(moved.stderr).toMatch(new RegExp(`^note: ${repo.replaceAll('.', '\\.')}:v1 moves from sha256:[0-9a-f]{12} to sha256:[0-9a-f]{12}$`, 'm'));
  }, 120_000);
});
