// Errors for scripts: the typed code list against docs/errors.md, and what the real CLI prints and returns
// (error[code] on stderr, an error object under --json, exit 0 / 1 / 2 / 3).
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EXIT, isErrorCode } from '../src/index.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

describe('the error code list and docs/errors.md', () => {
  it('documents every code of the list', async () => {
    const doc = await readFile('docs/errors.md', 'utf8');
    expect(ERROR_CODES.length).toBeGreaterThan(150);
    expect(ERROR_CODES.filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
  });

  it('documents no code that is not in the list', async () => {
    const doc = await readFile('docs/errors.md', 'utf8');
    // The first column of every table row: one or more `code` names (`a` / `b`).
    const documented = [...doc.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z0-9-]+\.[a-zA-Z0-9.-]+)`/g)].map((c) => c[1]!));
    expect(documented.length).toBeGreaterThan(150);
    expect(documented.filter((c) => !isErrorCode(c))).toEqual([]);
  });

  it('every CLI error line README.md and docs/*.md show names a code of the list: error[<code>]: …', async () => {
    const files = ['README.md', ...(await readdir('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const shown: string[] = [];
    const bare: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      shown.push(...[...text.matchAll(/error\[([^\]]+)\]: /g)].map((m) => m[1]!));
      // `error: …` in a code span or at the start of an output line is what the CLI never prints (a library
      // example's console.error(`error: …`) is the caller's own text).
      bare.push(...[...text.matchAll(/(?:(?<![(\w])`|^)error: .{0,40}/gm)].map((m) => `${file}: ${m[0]}`));
    }
    expect(shown.length).toBeGreaterThan(3);
    expect(shown.filter((c) => c !== 'internal' && c !== '<code>' && !isErrorCode(c))).toEqual([]);
    expect(bare).toEqual([]);
  });

  it('has no duplicates and keeps the list sorted (so branches adding codes merge line by line)', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect([...ERROR_CODES]).toEqual([...ERROR_CODES].sort());
  });
});

describe('the CLI, as a script sees it', () => {
  it('a failure: error[code] and hint on stderr, exit 1; under --json also one error object on stdout', async () => {
    const dir = await tempDir();
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(EXIT.failure);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error[config.missing]: ${dir}/gamelayer.yaml: no such file\nhint: run gamelayer init in the build folder to write one, create a gamelayer.yaml (see fixtures/sample-game/gamelayer.yaml), or pass --config FILE\n`,
    );
    const j = await runCli(['build', '--json'], { cwd: dir });
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({
      error: {
        code: 'config.missing',
        message: `${dir}/gamelayer.yaml: no such file`,
        hint: 'run gamelayer init in the build folder to write one, create a gamelayer.yaml (see fixtures/sample-game/gamelayer.yaml), or pass --config FILE',
      },
    });
    expect(j.stderr).toContain('error[config.missing]: ');
  });

  it('-c naming a folder: config.unreadable says so and gives the file inside it (was: EISDIR: illegal operation)', async () => {
    const dir = await tempDir();
    const r = await runCli(['scan', '-c', dir], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error[config.unreadable]: ${dir}: is a folder, not a config file\nhint: pass the file: --config ${dir}/gamelayer.yaml\n`);
  });

  it('a usage error exits 2: unknown options, bad flag values, --password', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    const unknown = await runCli(['scan', '--jsn'], { cwd: dir });
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^error\[cli\.usage\]: unknown option '--jsn'/);
    const unknownJson = await runCli(['diff', '--json', '--no-such'], { cwd: dir });
    expect(unknownJson.code).toBe(2);
    const usage = JSON.parse(unknownJson.stdout).error;
    expect(usage.code).toBe('cli.usage');
    expect(usage.message).toMatch(/^unknown option '--no-such'/);

    const concurrency = await runCli(['push', 'localhost:1/g:v1', '--concurrency', 'lots'], { cwd: dir });
    expect(concurrency.code).toBe(2);
    expect(concurrency.stderr).toBe('error[cli.concurrency]: --concurrency: expected a whole number from 1 to 64, got "lots"\n');

    // A bad duration stops the build before anything is built (no record).
    const mediaWait = await runCli(['build', '--media-wait', 'soon'], { cwd: dir });
    expect(mediaWait.stderr).toBe('error[cli.duration]: --media-wait "soon": expected a duration such as 90s, 45m, 1h30m or 500ms\n');
    expect(mediaWait.code).toBe(2);
    await expect(readFile(path.join(dir, '.gamelayer', 'records', 'build-last.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    // --media-wait without the push and the one platform it is for did nothing: refused before anything is built.
    const waitNoPush = await runCli(['build', '--media-wait', '5m'], { cwd: dir });
    expect(waitNoPush.code).toBe(2);
    expect(waitNoPush.stderr).toMatch(/^error\[cli\.needs-push\]: --media-wait goes with --push REPO and --platform P/);
    const waitNoPlatform = await runCli(['build', '--media-wait', '5m', '--push', 'localhost:1/g'], { cwd: dir });
    expect(waitNoPlatform.code).toBe(2);
    expect(waitNoPlatform.stderr).toMatch(/^error\[cli\.usage\]: --media-wait goes with --platform P/);
    await expect(readFile(path.join(dir, '.gamelayer', 'records', 'build-last.json'), 'utf8')).rejects.toThrow(/ENOENT/);

    const password = await runCli(['push', 'localhost:1/g:v1', '--username', 'u', '--password', 'secret', '--json'], { cwd: dir });
    expect(password.code).toBe(2);
    expect(JSON.parse(password.stdout).error).toEqual({
      code: 'cli.password',
      message: '--password: a password on the command line would show in ps and in shell history',
      hint: 'pipe it in instead: echo "$PASSWORD" | gamelayer push … --username U --password-stdin',
    });
  });

  it('diff --exit-code: 0 when nothing changed, 3 when something did, 1 when it failed', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    expect((await runCli(['scan'], { cwd: dir })).code).toBe(0);
    const same = await runCli(['diff', '--exit-code'], { cwd: dir });
    expect(same.code).toBe(EXIT.ok);
    await writeFile(path.join(dir, 'app/new.cfg'), 'x');
    const changed = await runCli(['diff', '--exit-code'], { cwd: dir });
    expect(changed.code).toBe(EXIT.changes);
    expect(changed.stderr).not.toContain('error');
    await rm(path.join(dir, 'app'), { recursive: true });
    const failed = await runCli(['diff', '--exit-code', '--json'], { cwd: dir });
    expect(failed.code).toBe(EXIT.failure);
    expect(JSON.parse(failed.stdout).error.code).toBe('scan.source-missing');
  });
});
