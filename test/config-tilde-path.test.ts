// `store: ~/cache/oci` or `source: ~/game`: `~` is the shell's, and the config is not read by a shell. The old code
// took it as a relative path: the store became a folder named "~" beside the config (one `rm -rf ~` away from the
// home folder), and a source was "does not exist".
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function game(extra: string, app = 'app'): Promise<string> {
  const dir = await tempDir('gl-tilde-');
  await writeTinyGame(dir, ['game: tilde', 'start: [/x]', extra], { files: false, source: (t) => `"${t === 'app' ? app : t}"` });
  return dir;
}

describe('a config path starting with ~', () => {
  it('store: ~/…: refused at its line, no folder named ~ made', async () => {
    const dir = await game('store: ~/gl-store');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:3:8: store: starts with "~", which only a shell expands`);
    expect(existsSync(path.join(dir, '~'))).toBe(false);
  });

  it('source: ~user/…: refused at its line', async () => {
    const dir = await game('', '~alice/app');
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('trees.app.source: starts with "~", which only a shell expands');
  });
});
