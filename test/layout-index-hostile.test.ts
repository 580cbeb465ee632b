// A store whose index.json names its images by entries that are not descriptors (a digest with `../`, a null, a size
// no file has): every command that reads the store refuses it naming index.json and the entry, not a bare digest
// whose origin the user must guess, and never a TypeError.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();

let game: string;
let good: string;
beforeAll(async () => {
  game = await tempDir();
  copySample(game);
  const built = await runCli(['build', '--tag', 'v1'], { cwd: game });
  expect(built.code, built.stderr).toBe(0);
  good = await readFile(path.join(game, '.gamelayer/oci/index.json'), 'utf8');
}, 120_000);

const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
  ['a digest with ../ in it', (m) => ({ ...m, digest: 'sha256:../../../etc' }), /manifests\[1\]\.digest: "sha256:\.\.\/\.\.\/\.\.\/etc" is not a sha256 digest/],
  ['a null entry', () => null, /manifests\[1\]: not a descriptor object/],
  ['a size no file has', (m) => ({ ...m, size: 1e308 }), /manifests\[1\]\.size: 1e\+308 is not a byte count/],
];

describe('an index.json entry that is not a descriptor', () => {
  for (const [what, edit, message] of cases) {
    it(`${what}: gc, build and push refuse it naming index.json and the entry`, async () => {
      const index = JSON.parse(good) as { manifests: Record<string, unknown>[] };
      index.manifests[1] = edit(index.manifests[1]!) as Record<string, unknown>;
      const file = path.join(game, '.gamelayer/oci/index.json');
      await writeFile(file, JSON.stringify(index));
      for (const args of [['gc', '--keep', '1'], ['build', '--tag', 'v2'], ['push', `${registry.host}/studio/index-${process.pid}:v1`]]) {
        const r = await runCli(args, { cwd: game });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`${file}: `);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/bug|TypeError/);
      }
      await writeFile(file, good);
    }, 120_000);
  }
});
