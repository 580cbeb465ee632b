// An added symlink was listed by `gamelayer diff` as `+ path`, its target not shown (a dangling or escaping link
// looked like any file). Now `+ path -> target`, as `ls -l` shows it; both quoted when they hold a control
// character (a changed target too); `--json` carries `linkTarget`. Real CLI on a written game.
import { execFile } from 'node:child_process';
import { rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');

describe('gamelayer diff of an added symlink', () => {
  it('shows + path -> target, quoted when odd, and the target in --json', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    const env = { ...process.env, CI: 'true' };
    await symlink('a', path.join(dir, 'app/retarget'));
    await writeFile(path.join(dir, 'app/becomes-link'), 'x');
    await run(BIN, ['scan'], { cwd: dir, env });
    await rm(path.join(dir, 'app/retarget'));
    await symlink('b\u001b[2J', path.join(dir, 'app/retarget'));
    await rm(path.join(dir, 'app/becomes-link'));
    await symlink('current', path.join(dir, 'app/becomes-link'));
    await symlink('../engine/bin/server', path.join(dir, 'app/current'));
    await symlink('odd\ntarget', path.join(dir, 'app/odd-link'));
    const text = (await run(BIN, ['diff'], { cwd: dir, env })).stdout;
    const list = text.slice(text.indexOf('\napp:\n') + 1).split('\n\n')[0]!.trimEnd().split('\n');
    expect(list).toEqual([
      'app:',
      '  + current -> ../engine/bin/server',
      '  + odd-link -> "odd\\ntarget"',
      '  ~ becomes-link (file → symlink -> current)',
      '  ~ retarget (link a → "b\\u001b[2J")',
    ]);
    expect(text).not.toContain('\u001b');
    const json = JSON.parse((await run(BIN, ['diff', '--json'], { cwd: dir, env })).stdout) as { trees: { tree: string; added: { path: string; type: string; linkTarget?: string }[] }[] };
    const added = json.trees.flatMap((t) => t.added).filter((e) => e.type === 'symlink');
    expect(added.map((e) => [e.path, e.linkTarget])).toEqual([['current', '../engine/bin/server'], ['odd-link', 'odd\ntarget']]);
  });
});
