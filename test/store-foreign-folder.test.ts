// `store:` naming a folder that holds other files (`store: .` in the game folder, `store: /`) made the store there:
// blobs/, index.json, oci-layout, .holds/ and .tmp/ written among the user's files (found in stop 42's trial). A
// store is now made only in a new or empty folder, a layout, or one holding only a store's own names (a first run
// killed before its oci-layout); any other is refused before anything is written.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

async function sampleWithStore(store: string): Promise<string> {
  const dir = path.join(await tempDir('gl-store-foreign-'), 'game');
  copySample(dir);
  await writeFile(path.join(dir, 'gamelayer.yaml'), `${await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')}\nstore: ${store}\n`);
  return dir;
}

describe('a store folder holding other files', () => {
  it('store: . (the game folder) is refused naming the folder, and nothing is written there', async () => {
    const dir = await sampleWithStore('.');
    const before = (await readdir(dir)).sort();
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[store.not-layout]: ${dir}: not an OCI image layout (no oci-layout file) and not empty (`);
    expect(r.stderr).toContain('hint: point store: in gamelayer.yaml');
    expect((await readdir(dir)).filter((n) => n !== '.gamelayer').sort()).toEqual(before);
  });

  it('a folder with only what a killed first run leaves (blobs/, .tmp/), or an empty one, becomes the store', async () => {
    for (const leftover of [['blobs', '.tmp'], []]) {
      const dir = await sampleWithStore('./store');
      await mkdir(path.join(dir, 'store'));
      for (const n of leftover) await mkdir(path.join(dir, 'store', n));
      const r = await runCli(['build'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(await readdir(path.join(dir, 'store'))).toContain('oci-layout');
    }
  });
});
