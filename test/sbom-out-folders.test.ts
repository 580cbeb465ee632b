// `sbom -o DIR/x.json` with DIR missing failed after the download (deploy.write: ENOENT), though every other --out
// creates its folders. It now creates them, writes through a temp file renamed into place, and a run that fails
// (no such image) leaves no folder behind.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();

describe('sbom -o into folders that do not exist', () => {
  it('creates them and writes the SBOM whole; a failed fetch creates nothing', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'game');
    await writeGame(dir);
    const repo = `${registry.host}/studio/sbom-out`;
    const built = await runCli(['build', '--push', repo, '--tag', 'v1', '--sbom'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const printed = await runCli(['sbom', `${repo}:v1`], { cwd: dir });
    expect(printed.code).toBe(0);

    const out = path.join(root, 'reports/sbom/v1/x.json');
    const r = await runCli(['sbom', `${repo}:v1`, '-o', out], { cwd: dir });
    expect(r.stderr).toMatch(/^SBOM sha256:[0-9a-f]{64} of sha256:[0-9a-f]{64} \(found via .*\) written to .*x\.json\n$/);
    expect(r.code).toBe(0);
    expect(`${await readFile(out, 'utf8')}\n`).toBe(printed.stdout);
    // Nothing beside it: the temp file was renamed into place.
    expect(await readdir(path.dirname(out))).toEqual(['x.json']);

    // Relative to the current folder, as the other --out options.
    const rel = await runCli(['sbom', `${repo}:v1`, '-o', 'out/a/b.json'], { cwd: dir });
    expect(rel.code).toBe(0);
    expect(`${await readFile(path.join(dir, 'out/a/b.json'), 'utf8')}\n`).toBe(printed.stdout);

    const missing = await runCli(['sbom', `${repo}:nope`, '-o', path.join(root, 'never/made/x.json')], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(existsSync(path.join(root, 'never'))).toBe(false);
  });
});
