// oci/layer-proof.ts against the real layer writer: a blob it wrote is proven the tar of its entries whatever header
// forms they take (PAX for a long or non-ASCII name and a long link target, an empty file, a body spread over many
// chunks, gzip and zstd), and refused with a reason for another mount, another mtime or an entry's other content.
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirContentSource } from '../src/oci/content.js';
import { buildLayer } from '../src/oci/layer.js';
import { proveLayerBlob } from '../src/oci/layer-proof.js';
import { OciStore } from '../src/oci/store.js';
import { scanTree } from '../src/scan/scan.js';
import type { PlannedLayer } from '../src/types.js';
import { tempDir } from './support/tmp.js';

const ALL = { include: ['**'], exclude: [] };
const MTIME = 1_700_000_000;

async function tree(root: string): Promise<void> {
  const deep = path.join(root, 'a'.repeat(90), 'b'.repeat(90));
  await mkdir(deep, { recursive: true });
  await writeFile(path.join(deep, `${'c'.repeat(150)}.pak`), 'long name');
  await writeFile(path.join(root, 'café – ünïcode.txt'), 'non-ASCII name');
  await writeFile(path.join(root, 'empty'), '');
  await writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n');
  await chmod(path.join(root, 'run.sh'), 0o755);
  await writeFile(path.join(root, 'big.pak'), Buffer.alloc(5 << 20, 3).fill(11, 1 << 20));
  await symlink(path.relative(root, path.join(deep, `${'c'.repeat(150)}.pak`)), path.join(root, 'far-link'));
}

describe('proveLayerBlob', () => {
  for (const kind of ['gzip', 'zstd'] as const) {
    it(`proves a ${kind} layer the writer made, and refuses it for another mount, mtime or content`, async () => {
      const dir = await tempDir();
      const root = path.join(dir, 'tree');
      await tree(root);
      const scanned = await scanTree('app-media', root, ALL, { stateDir: path.join(dir, 'state') });
      const store = await OciStore.open(path.join(dir, 'store'));
      const layer: PlannedLayer = { tree: 'app-media', index: 0, entries: scanned.manifest.entries, inputKey: 'sha256:test', bytes: 0 };
      const built = await buildLayer(layer, { content: dirContentSource(root), mount: '/opt/local/app-media', store, compression: { kind }, mtime: MTIME });

      expect(await proveLayerBlob(store, built, layer, '/opt/local/app-media', MTIME)).toBeUndefined();
      expect(await proveLayerBlob(store, built, layer, '/opt/local/app', MTIME)).toContain('differs from the planned tar at opt/local/app');
      expect(await proveLayerBlob(store, built, layer, '/opt/local/app-media', MTIME + 1)).toContain('differs from the planned tar at opt');
      const edited = { ...layer, entries: layer.entries.map((e) => (e.path === 'big.pak' ? { ...e, xxh64: '0123456789abcdef' } : e)) };
      expect(await proveLayerBlob(store, built, edited, '/opt/local/app-media', MTIME)).toContain('holds opt/local/app-media/big.pak with content of xxh64');
      const fewer = { ...layer, entries: layer.entries.filter((e) => e.path !== 'run.sh') };
      expect(await proveLayerBlob(store, built, fewer, '/opt/local/app-media', MTIME)).toContain('holds more than the planned entries');
      expect(await proveLayerBlob(store, { ...built, diffID: `sha256:${'1'.repeat(64)}` }, layer, '/opt/local/app-media', MTIME)).toContain("not the row's diffID");
    });
  }
});
