// The test run's own machinery: the order files start in (file-order.ts), the files that share a worker
// (shared-isolation.json) and the in-memory temp folder (memory-tmp.ts).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { knownDurations, longestFirst, sharedLast } from './support/file-order.js';
import { useMemoryTempFolder } from './support/memory-tmp.js';

describe('file order', () => {
  it('starts files the table does not know, then the longest first; equal ones by path', () => {
    const seconds = new Map([['test/a.test.ts', 3], ['test/b.test.ts', 40], ['test/c.test.ts', 3]]);
    const order = longestFirst(['test/a.test.ts', 'test/c.test.ts', 'test/new.test.ts', 'test/b.test.ts'], (f) => f, seconds);
    expect(order).toEqual(['test/new.test.ts', 'test/b.test.ts', 'test/a.test.ts', 'test/c.test.ts']);
  });

  it('starts the files of the shared worker after all isolated ones, keeping the order within each', () => {
    const order = sharedLast(['s1', 'i1', 's2', 'i2', 'i3'], (f) => f.startsWith('s'));
    expect(order).toEqual(['i1', 'i2', 'i3', 's1', 's2']);
  });

  it('reads the committed table: seconds of test files', () => {
    const table = knownDurations();
    expect(table.size).toBeGreaterThan(100);
    for (const [file, s] of table) {
      expect(file).toMatch(/^test\/.+\.test\.ts$/);
      expect(s).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('the files that share a worker (shared-isolation.json)', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { files } = JSON.parse(readFileSync(path.join(root, 'test/support/shared-isolation.json'), 'utf8')) as { files: string[] };
  // What leaves state behind in a worker the next file would run with, or runs the CLI (a child per test).
  const unsafe =
    /\bvi\.(mock|doMock|stubEnv|stubGlobal|spyOn|useFakeTimers)\b|process\.chdir|process\.env(\.\w+|\[[^\]]+\])?\s*=[^=]|delete process\.env|process\.umask\(|support\/(cli-process|reaped-cli|tiny-game|ecr-game)\.js/;

  it('lists existing test files, sorted, once each', () => {
    expect(files.length).toBeGreaterThan(0);
    expect([...new Set(files)].sort()).toEqual(files);
    for (const f of files) expect(existsSync(path.join(root, f)), f).toBe(true);
  });

  it('lists no file that mocks, stubs, changes process state or runs the CLI', () => {
    const found = files.filter((f) => unsafe.test(readFileSync(path.join(root, f), 'utf8')));
    expect(found).toEqual([]);
  });
});

describe('the in-memory temp folder', () => {
  it('is a new folder on the tmpfs, writable by all as /tmp, removed with its content at the end', () => {
    const env: NodeJS.ProcessEnv = {};
    const done = useMemoryTempFolder(env);
    const dir = env.TMPDIR;
    if (dir === undefined) return; // no roomy tmpfs at /dev/shm here: the tests use the system's temp folder
    expect(path.dirname(dir)).toBe('/dev/shm');
    expect(statSync(dir).mode & 0o7777).toBe(0o1777);
    writeFileSync(path.join(dir, 'left-by-a-test'), 'x');
    done();
    expect(existsSync(dir)).toBe(false);
    expect(env.TMPDIR).toBeUndefined();
  });

  it('keeps a TMPDIR the caller set', () => {
    const env: NodeJS.ProcessEnv = { TMPDIR: '/somewhere/else' };
    useMemoryTempFolder(env)();
    expect(env.TMPDIR).toBe('/somewhere/else');
  });
});
