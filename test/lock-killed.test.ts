// Locks and holds left by a process killed at the worst moment never stop the next command: the store's index.json
// lock, gc's lock and a build's hold on the store. (A lock that was created empty and then written, killed in
// between, made every later build wait two minutes and fail: found by a kill -9 test that hung under load.)
import { existsSync } from 'node:fs';
import { appendFile, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempTag } from '../src/util/temp-files.js';
import { runCli } from './support/cli-process.js';
import { runCliKilledAt } from './support/kill-at-syscall.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { recordProblems, storeProblems } from './support/verify-state.js';

let project: string;
const store = () => path.join(project, '.gamelayer/oci');
const lockFile = () => path.join(store(), 'index.json.lock');

/** A temp tag of a process of this host that is not running (pid 4194305 is above Linux's largest pid). */
const deadTag = () => tempTag().replace(/^\d+-/, '4194305-');

async function ok(args: string[]): Promise<void> {
  const r = await runCli(args, { cwd: project });
  expect(r.code, r.stderr).toBe(0);
}

async function expectConsistent(): Promise<void> {
  expect(await storeProblems(store())).toEqual([]);
  expect(await recordProblems(path.join(project, '.gamelayer'), store())).toEqual([]);
}

beforeEach(async () => {
  project = path.join(await tempDir('gl-lock-'), 'game');
  copySample(project);
  await ok(['build']);
});

describe('a lock left by a killed process', () => {
  it('an empty index.json lock (an older gamelayer killed between creating and writing it) is taken over', async () => {
    await writeFile(lockFile(), '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockFile(), old, old);
    await appendFile(path.join(project, 'app/config/server.cfg'), 'max_players=64\n');
    await ok(['build']);
    expect(existsSync(lockFile())).toBe(false);
    await expectConsistent();
  });

  it('a build killed as it puts the index.json lock in place leaves nothing that stops the next build', async () => {
    await appendFile(path.join(project, 'app/config/server.cfg'), 'max_players=64\n');
    const { killed } = await runCliKilledAt(['build'], { path: lockFile(), call: 'link' }, { cwd: project });
    expect(killed).toBe(true);
    await ok(['build']);
    // Neither the lock nor the killed run's temp file beside it is left.
    expect((await readdir(store())).filter((n) => n.startsWith('index.json.'))).toEqual([]);
    await expectConsistent();
  });

  it('gc does not wait for the empty hold of a build killed before it wrote its hold', async () => {
    await writeFile(path.join(store(), '.holds', `build.${deadTag()}`), '');
    await ok(['gc', '--keep', '1', '--apply']);
    expect(await readdir(path.join(store(), '.holds'))).toEqual([]);
    await expectConsistent();
  });

  it('a stale gc lock whose text names no process is taken over', async () => {
    const gcLock = path.join(store(), '.holds', 'gc');
    await writeFile(gcLock, 'garbage');
    const old = new Date(Date.now() - 60_000);
    await utimes(gcLock, old, old);
    await ok(['gc', '--keep', '1', '--apply']);
    expect(existsSync(gcLock)).toBe(false);
  });
});
