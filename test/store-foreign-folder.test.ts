// `store:` naming a folder that holds other files (`store: .` in the game folder, `store: /`) made the store there:
// blobs/, index.json, oci-layout, .holds/ and .tmp/ written among the user's files (found in stop 42's trial). A
// store is now made only in a new or empty folder, a layout, or one holding only a store's own names (a first run
// killed before its oci-layout); any other is refused before anything is written. So is one holding only another
// tool's index.json, an oci-layout of another version, or a layout whose index is no OCI index: the index was read
// (and refused) only after blobs/sha256, .tmp/, .holds/ and oci-layout had been made beside it (stop 42).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { mkfifo } from './support/mkfifo.js';
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

  it.each([
    [
      'only another tool\'s index.json',
      { 'index.json': '{"hello": 1}' },
      'error[store.not-layout]: STORE: not an OCI image layout (no oci-layout file) and its index.json is not one a new store leaves (not an OCI image index (schemaVersion 2 with manifests))',
    ],
    [
      'only an index.json listing a manifest',
      { 'index.json': JSON.stringify({ schemaVersion: 2, manifests: [{ digest: `sha256:${'0'.repeat(64)}`, size: 3 }] }) },
      'error[store.not-layout]: STORE: not an OCI image layout (no oci-layout file) and its index.json is not one a new store leaves (it lists 1 manifest)',
    ],
    ['an oci-layout of another version', { 'oci-layout': '{"imageLayoutVersion":"2.0.0"}' }, 'error[store.layout-version]: STORE: unsupported image layout version'],
    [
      'a layout whose index.json is no OCI index',
      { 'oci-layout': '{"imageLayoutVersion":"1.0.0"}', 'index.json': '[]' },
      'error[store.index-invalid]: STORE/index.json: not an OCI image index',
    ],
  ])('a store folder holding %s is refused, and nothing is written in it', async (_, files: Record<string, string>, message) => {
    const dir = await sampleWithStore('./store');
    const store = path.join(dir, 'store');
    await mkdir(store);
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(store, name), text);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message.replace('STORE', store));
    expect((await readdir(store)).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(await readFile(path.join(store, name), 'utf8')).toBe(text);
  });

  it('a folder holding only an empty index (what a killed first run of any version could leave) becomes the store', async () => {
    const dir = await sampleWithStore('./store');
    await mkdir(path.join(dir, 'store'));
    await writeFile(path.join(dir, 'store', 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(path.join(dir, 'store'))).toContain('oci-layout');
  });

  it.each([
    ['blobs as a file', (store: string) => writeFile(path.join(store, 'blobs'), ''), 'blobs: a file, not a folder: the store keeps its blobs in a folder there'],
    ['.tmp as a FIFO', (store: string) => mkfifo(path.join(store, '.tmp')), '.tmp: a FIFO, not a folder: the store keeps its temp files in a folder there'],
    ['.holds as a file', (store: string) => writeFile(path.join(store, '.holds'), ''), '.holds: a file, not a folder: the store keeps the holds of builds in a folder there'],
    ['blobs/sha256 as a file', async (store: string) => {
      await mkdir(path.join(store, 'blobs'));
      await writeFile(path.join(store, 'blobs/sha256'), '');
    }, 'blobs/sha256: a file, not a folder: the store keeps its blobs in a folder there'],
  ])('a store folder holding %s is refused naming it, before anything is written (was error[internal] EEXIST or ENOTDIR, after .holds/ was made)', async (_, make, message) => {
    const dir = await sampleWithStore('./store');
    const store = path.join(dir, 'store');
    await mkdir(store);
    await make(store);
    const before = await listing(store);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[store.not-layout]: ${store}/${message}`);
    expect(await listing(store)).toEqual(before);
  });

  it('a store whose blobs is a link to a folder that does not exist is refused: the blobs went there, outside the store', async () => {
    const dir = await sampleWithStore('./store');
    const store = path.join(dir, 'store');
    const gone = path.join(dir, 'elsewhere');
    await mkdir(store);
    await symlink(gone, path.join(store, 'blobs'));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[store.not-layout]: ${store}/blobs: a symbolic link to ${gone}, which does not exist`);
    expect(existsSync(gone)).toBe(false);
    expect(await readdir(store)).toEqual(['blobs']);
  });
});

/** Every path under `dir`, with its kind. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(`${path.relative(dir, path.join(e.parentPath, e.name))} ${e.isDirectory() ? 'dir' : e.isFIFO() ? 'fifo' : 'file'}`);
  return out.sort();
}
