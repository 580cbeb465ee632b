// The layer cache (inputKey → built layer) is written only when a row changed: a no-op build leaves
// .gamelayer/cache/layers.json as it is (no atomic rewrite, no fsync), while a new row, a row dropped because its
// blob is gone, or a rejected file are written.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LayerCache } from '../src/oci/layer-cache.js';
import { OciStore } from '../src/oci/store.js';
import type { BuiltLayer } from '../src/types.js';
import { tempDir } from './support/tmp.js';

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** The file's identity: an atomic rewrite (temp file + rename) gives it a new inode. */
async function identity(file: string): Promise<string> {
  const st = await stat(file, { bigint: true });
  return `${st.ino}/${st.mtimeNs}`;
}

describe('layer cache', () => {
  it('writes layers.json when a row changes and leaves it alone when nothing did', async () => {
    const dir = await tempDir();
    const stateDir = path.join(dir, 'state');
    const store = await OciStore.open(path.join(dir, 'oci'), { markers: path.join(stateDir, 'markers') });
    const file = path.join(stateDir, 'cache', 'layers.json');
    const blob = await store.putBlob(Readable.from([Buffer.from('a compressed layer')]));
    const gone = await store.putBlob(Readable.from([Buffer.from('a layer removed later')]));
    const layer = (inputKey: string, b: { digest: string; size: number }): BuiltLayer => ({ tree: 'app', index: 0, inputKey, diffID: b.digest, digest: b.digest, size: b.size, mediaType: GZIP });

    const first = await LayerCache.open(stateDir);
    first.remember(layer('k1', blob), 'gzip', 0, 'zlib/1', store.dir);
    first.remember(layer('k2', gone), 'gzip', 0, 'zlib/1', store.dir);
    await first.save();
    const written = await identity(file);

    // Read, both layers looked up, saved: the same file, untouched.
    const again = await LayerCache.open(stateDir);
    expect(await again.find('k1', 'gzip', 0, 'zlib/1', store)).toMatchObject({ digest: blob.digest });
    expect(await again.find('k2', 'gzip', 0, 'zlib/1', store)).toMatchObject({ digest: gone.digest });
    await again.save();
    expect(await identity(file)).toBe(written);

    // A row whose blob left the store is dropped, and that is written.
    await rm(store.blobPath(gone.digest));
    const third = await LayerCache.open(stateDir);
    expect(await third.find('k2', 'gzip', 0, 'zlib/1', store)).toBeUndefined();
    await third.save();
    expect(await identity(file)).not.toBe(written);
    const rows = await readFile(file, 'utf8');
    expect(rows).toContain('k1|gzip|0');
    expect(rows).not.toContain(gone.digest);

    // A damaged file is rejected, and replaced by the next save even though no row changed.
    await writeFile(file, '{"format":"gamelayer-layer-cache/1","sha256":"00"}\n{}');
    const damaged = await LayerCache.open(stateDir);
    expect(damaged.rejected).toMatch(/checksum mismatch/);
    await damaged.save();
    expect((await LayerCache.open(stateDir)).rejected).toBeUndefined();
  });
});
