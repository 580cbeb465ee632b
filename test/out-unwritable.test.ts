// `--out` / `-o` that cannot be written: `codebuild imagedefinitions --out /proc/nope/x` and `sbom -o /proc/nope/x`
// were error[internal] (ENOENT from mkdir / copyfile) with the "looks like a bug" hint, and `sbom -o FOLDER`
// error[internal] EISDIR after the download. Now deploy.write naming the file (as `codebuild buildspec --out`), and a
// folder is refused as cli.out-is-folder before the registry is asked.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let game: string;
beforeAll(async () => {
  game = await tempDir();
  copySample(game);
  const r = await runCli(['build', '--tag', 'v1'], { cwd: game });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('an --out that cannot be written', () => {
  it('codebuild imagedefinitions --out /proc/nope/x is deploy.write, not internal', async () => {
    const r = await runCli(['codebuild', 'imagedefinitions', '--local', '--repository', '127.0.0.1:9/g', '--out', '/proc/nope/x'], { cwd: game });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[deploy.write]: /proc/nope/x: cannot write: ');
    expect(r.stderr).not.toContain('internal');
  });

  it('sbom -o FOLDER is refused before the registry is asked', async () => {
    await mkdir(path.join(game, 'outdir'), { recursive: true });
    // Port 9 (discard) on loopback: nothing answers, so reaching the registry would fail with another error.
    const r = await runCli(['sbom', '127.0.0.1:9/g:1', '-o', 'outdir'], { cwd: game });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[cli.out-is-folder]: --out ${path.join(game, 'outdir')}: is a folder, not a file`);
  });
});
