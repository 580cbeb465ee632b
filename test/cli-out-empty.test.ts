// `--out ''` (a CI step's `--out "$DIR"` with DIR unset) was taken as no --out: k8s, ecs, codebuild buildspec /
// imagedefinitions and sbom printed to stdout and dockerfile wrote into the current folder, exit 0, and the file the
// step meant to write was never made. An empty --out is now a usage error (exit 2) before the command runs; so are
// an empty --sign (build --push pushed unsigned images, exit 0) and --key (sbom --key '' took any SBOM).
import { readdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let game: string;
beforeAll(async () => {
  game = await tempDir();
  copySample(game);
});

describe('an empty --out, --sign or --key', () => {
  it.each([
    [['k8s', '--local', '--out', '']],
    [['ecs', '--local', '--out=']],
    [['dockerfile', '-o', '']],
    [['codebuild', 'buildspec', '--out', '']],
    [['codebuild', 'imagedefinitions', '--local', '--out', '']],
    [['sbom', '127.0.0.1:9/g:1', '-o', '']],
    // An empty --sign pushed unsigned images (exit 0); an empty sbom --key printed an SBOM nobody signed.
    [['build', '--push', '127.0.0.1:9/g', '--sign', '']],
    [['codebuild', 'buildspec', '--sign', '']],
    [['sbom', '127.0.0.1:9/g:1', '--key', '']],
    [['verify', '127.0.0.1:9/g:1', '--key', '']],
  ])('gamelayer %j is refused, nothing printed or written', async (args) => {
    const before = await readdir(game);
    const r = await runCli(args, { cwd: game });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error\[cli\.usage\]: --(out|sign|key): empty/);
    expect(r.stdout).toBe('');
    expect(await readdir(game)).toEqual(before);
  });
});
