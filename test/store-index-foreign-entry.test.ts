// index.json of the store edited by hand or by another tool: an entry that names a layer blob as a manifest, or a
// manifest (hashing to its name) whose `layers` is not a list. `ls` and `gc` walk every entry; they parsed the blob
// with JSON.parse and took its fields on trust: `error[internal]: Unexpected token '\u001f' … is not valid JSON`,
// and a `layers` string walked letter by letter. Now each is `layout.invalid`, naming the blob file, the field and
// the tag; `gc --apply` deletes nothing.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function builtStore(prefix: string) {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: foreign-entry', 'start: [/opt/local/engine/run]']);
  expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
  const store = path.join(dir, '.gamelayer', 'oci');
  const blobs = path.join(store, 'blobs', 'sha256');
  return { dir, store, blobs, index: path.join(store, 'index.json') };
}

async function addEntry(indexFile: string, tag: string, digest: string, size: number): Promise<void> {
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: unknown[] };
  index.manifests.push({ mediaType: MANIFEST, digest, size, annotations: { 'org.opencontainers.image.ref.name': tag } });
  await writeFile(indexFile, JSON.stringify(index, null, 2));
}

describe('an index.json entry that is not a manifest gamelayer can walk', () => {
  it('a layer blob tagged as a manifest: ls and gc --apply refuse it naming the blob and the tag; nothing is deleted', async () => {
    const s = await builtStore('gl-foreign-layer-');
    // A layer: gzip bytes, not JSON.
    const names = await readdir(s.blobs);
    const heads = await Promise.all(names.map(async (n) => (await readFile(path.join(s.blobs, n))).subarray(0, 2)));
    const layer = names[heads.findIndex((h) => h[0] === 0x1f && h[1] === 0x8b)]!;
    const file = path.join(s.blobs, layer);
    await addEntry(s.index, 'evil', `sha256:${layer}`, (await stat(file)).size);
    for (const args of [['ls'], ['gc', '--apply']]) {
      const r = await runCli(args, { cwd: s.dir });
      expect(r.stderr, args.join(' ')).toContain(`error[layout.invalid]: ${file}: invalid JSON (tag evil of ${s.index}): `);
      expect(r.code).toBe(1);
    }
    expect((await readdir(s.blobs)).sort()).toEqual([...names].sort());
  });

  it('a manifest whose layers is a string: refused naming the field', async () => {
    const s = await builtStore('gl-foreign-shape-');
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'4'.repeat(64)}`, size: 2 }, layers: 'abc' }));
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(path.join(s.blobs, hex), bytes);
    await addEntry(s.index, 'odd', `sha256:${hex}`, bytes.length);
    const names = await readdir(s.blobs);
    for (const args of [['ls'], ['gc', '--apply']]) {
      const r = await runCli(args, { cwd: s.dir });
      expect(r.stderr, args.join(' ')).toContain(`error[layout.invalid]: ${path.join(s.blobs, hex)}: layers: not a list (tag odd of ${s.index})\n`);
      expect(r.code).toBe(1);
    }
    expect((await readdir(s.blobs)).sort()).toEqual([...names].sort());
  });

  it('a tag holding an escape sequence and a newline: ls shows it quoted on its line, never as it is', async () => {
    const s = await builtStore('gl-foreign-tag-');
    const index = JSON.parse(await readFile(s.index, 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    const copy = structuredClone(index.manifests[0]!);
    copy.annotations['org.opencontainers.image.ref.name'] = 'a\u001b[2J\nb';
    index.manifests.push(copy);
    await writeFile(s.index, JSON.stringify(index, null, 2));
    const r = await runCli(['ls'], { cwd: s.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toMatch(/^"a\\u001b\[2J\\nb" +other +[0-9a-f]{12} /m);
  });
});
