// `build --from REF` without --push read the record with one registry client and made a second for the same
// repository to ask after its layers: behind a token server, that one was challenged and fetched a second token of
// the same scope (and pinged once more). The layers are asked with the client that read the record.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

let reg: TestRegistry;
let dir: string;
beforeAll(async () => {
  reg = await startRegistry({ auth: 'token' });
  dir = await tempDir('gl-from-one-target-');
  await writeGame(dir);
});
afterAll(async () => reg?.stop());

describe('build --from without --push', () => {
  it("reaches the record's repository with one client: one token per scope", async () => {
    const u = reg.users[0]!;
    const login = ['--username', u.username, '--password-stdin'];
    const repo = `${reg.host}/studio/from-one`;
    const v1 = await runCli(['build', '--tag', 'v1', '--push', repo, ...login], { cwd: dir, stdin: `${u.password}\n` });
    expect(v1.code, v1.stderr).toBe(0);
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="pr"/>\n');
    const before = reg.tokenServer!.issued.length;
    const r = await runCli(['build', '--tag', 'pr-1', '--from', `${repo}:v1`, ...login], { cwd: dir, stdin: `${u.password}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^layers: 1 built, 3 reused;/m);
    const scopes = reg.tokenServer!.issued.slice(before).map((t) => t.scopes.join(' '));
    expect(scopes).toContain('repository:studio/from-one:pull');
    expect(scopes.filter((s, i) => scopes.indexOf(s) !== i)).toEqual([]);
  }, 120_000);
});
