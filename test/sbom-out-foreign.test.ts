// `sbom REF -o gamelayer.yaml` (or notes of the user's) replaced the file with the SBOM without a word, though
// `dockerfile`, `k8s`, `ecs` and `codebuild --out` never replace a file gamelayer did not write. `-o` now replaces only
// an SBOM (an earlier `sbom -o`) or an empty file, unless --force; the refusal comes before the download.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
let repo: string;
beforeAll(async () => {
  dir = await tempDir('gl-sbom-foreign-');
  await writeGame(dir);
  repo = `${registry.host}/studio/sbom-foreign`;
  const built = await runCli(['build', '--push', repo, '--tag', 'v1', '--sbom'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
}, 60_000);

describe('sbom -o over a file that is no SBOM', () => {
  it('is refused (cli.out-exists, exit 2) and the file kept; an earlier SBOM is replaced; --force replaces anything', async () => {
    const config = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await registry.resetAccessLog();
    const r = await runCli(['sbom', `${repo}:v1`, '-o', 'gamelayer.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[cli.out-exists]: ${path.join(dir, 'gamelayer.yaml')}: exists and is not a CycloneDX SBOM; writing the SBOM there would replace it\n` +
        'hint: name another file for --out (such as sbom.cdx.json), move the file away, or pass --force to replace it\n',
    );
    expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toBe(config);
    expect(await registry.accessLog()).toEqual([]);

    const first = await runCli(['sbom', `${repo}:v1`, '-o', 'sbom.cdx.json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(['sbom', `${repo}:v1`, '-o', 'sbom.cdx.json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);

    await writeFile(path.join(dir, 'notes.txt'), 'mine\n');
    const forced = await runCli(['sbom', `${repo}:v1`, '-o', 'notes.txt', '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe(await readFile(path.join(dir, 'sbom.cdx.json'), 'utf8'));
  });
});
