// The steps of a long command with no progress of their own (diff on a 1M-entry game: reading the record, walking
// the trees, diffing the layers) are shown on a terminal as a bar each while they run, and never in logs or JSON.
import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { closeReporters, silentReporter, ttyReporter } from '../src/report/reporter.js';
import { showsSteps, step } from '../src/report/step.js';
import { CLI, runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

afterEach(() => closeReporters());

function terminal() {
  const out = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true });
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

const frame = () => new Promise((r) => setTimeout(r, 150)); // the bars redraw 10 times a second

describe('command steps', () => {
  it('draws a bar named for the step while it runs, and returns what it returns', async () => {
    const t = terminal();
    const reporter = ttyReporter(t.out);
    const value = await step(reporter, true, 'scan trees', async () => {
      await frame();
      expect(t.text()).toContain('scan trees');
      return 42;
    });
    expect(value).toBe(42);
  });

  it('draws nothing when not shown, and is shown only on a terminal without --json', async () => {
    const t = terminal();
    expect(await step(ttyReporter(t.out), false, 'scan trees', async () => 1)).toBe(1);
    await frame();
    expect(t.text()).toBe('');
    expect(await step(silentReporter, true, 'read record', async () => 2)).toBe(2);
    const saved = { ci: process.env.CI, cb: process.env.CODEBUILD_BUILD_ID };
    delete process.env.CI;
    delete process.env.CODEBUILD_BUILD_ID;
    try {
      expect(showsSteps(false, { isTTY: true })).toBe(true);
      expect(showsSteps(true, { isTTY: true })).toBe(false);
      expect(showsSteps(false, { isTTY: false })).toBe(false);
      expect(showsSteps(false, {})).toBe(false);
    } finally {
      if (saved.ci !== undefined) process.env.CI = saved.ci;
      if (saved.cb !== undefined) process.env.CODEBUILD_BUILD_ID = saved.cb;
    }
  });
});

describe('gamelayer diff on a terminal', () => {
  it('shows its steps (scan trees, read record, diff layers) before its table', async () => {
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    // util-linux script(1) gives the CLI a terminal; its output is the terminal's.
    const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: '100' };
    delete env.CI;
    delete env.CODEBUILD_BUILD_ID;
    const { stdout } = await promisify(execFile)('script', ['-qfec', `${process.execPath} ${CLI} diff`, '/dev/null'], { cwd: dir, env });
    const at = (s: string) => stdout.indexOf(s);
    for (const s of ['read record', 'scan trees', 'diff layers']) expect(at(s)).toBeGreaterThanOrEqual(0);
    // The trees are scanned before the record is read (a large record is not held beside the scan).
    expect(at('scan trees')).toBeLessThan(at('read record'));
    expect(at('read record')).toBeLessThan(at('diff layers'));
    expect(at('diff layers')).toBeLessThan(at('working trees'));
  });
});
