// A temporary folder with EC P-256 signing keys and a registry of its own, for the sign/verify CLI tests: made before
// a file's tests, removed after. `key.pem`/`pub.pem` always; `other.pem`/`other.pub` (a second signer) when asked.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { runCli } from './cli-process.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { writeGame } from './trees.js';

export interface SigningFixture {
  /** The folder holding the keys (and whatever the tests put there). */
  root: string;
  reg: TestRegistry;
}

const KEY_PAIR = (key: string, pub: string) => `openssl ecparam -genkey -name prime256v1 -noout -out ${key} && openssl ec -in ${key} -pubout -out ${pub} 2>/dev/null`;

export function useSigningFixture(prefix: string, opts: { otherKey?: boolean } = {}): SigningFixture {
  const fx = {} as SigningFixture;
  beforeAll(async () => {
    fx.root = await mkdtemp(path.join(os.tmpdir(), prefix));
    fx.reg = await startRegistry();
    const keys = [KEY_PAIR('key.pem', 'pub.pem'), ...(opts.otherKey ? [KEY_PAIR('other.pem', 'other.pub')] : [])].join(' && ');
    execFileSync('sh', ['-c', `cd "$1" && ${keys}`, 'sh', fx.root]);
  });
  afterAll(async () => {
    await fx.reg?.stop();
    if (fx.root) await rm(fx.root, { recursive: true, force: true });
  });
  return fx;
}

/** A small game at `<root>/<name>`, built as v1 and pushed to `<registry>/studio/<name>` (`args`: --sign KEY, say). */
export async function pushedGame(fx: SigningFixture, name = 'game', args: string[] = []): Promise<{ dir: string; repo: string }> {
  const dir = path.join(fx.root, name);
  await writeGame(dir);
  const repo = `${fx.reg.host}/studio/${name}`;
  const built = await runCli(['build', '-t', 'v1', '--push', repo, ...args], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
  return { dir, repo };
}
