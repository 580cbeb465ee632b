// The test run's own machinery: the order files start in (file-order.ts) and the in-memory temp folder
// (memory-tmp.ts).
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownDurations, longestFirst } from './support/file-order.js';
import { useMemoryTempFolder } from './support/memory-tmp.js';

describe('file order', () => {
  it('starts files the table does not know, then the longest first; equal ones by path', () => {
    const seconds = new Map([['test/a.test.ts', 3], ['test/b.test.ts', 40], ['test/c.test.ts', 3]]);
    const order = longestFirst(['test/a.test.ts', 'test/c.test.ts', 'test/new.test.ts', 'test/b.test.ts'], (f) => f, seconds);
    expect(order).toEqual(['test/new.test.ts', 'test/b.test.ts', 'test/a.test.ts', 'test/c.test.ts']);
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
