// A layout document whose descriptor gives another size than its verified bytes is refused, naming the blob's file,
// both sizes and what was read: by `readLayoutDocument` and by a reader's cached `document` alike (each caller's
// descriptor is checked, also when the blob was read before for another).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLayout, readLayoutDocument } from '../src/oci/layout.js';
import { addTag } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';

describe('layout document size', () => {
  it('names the file and both sizes when a descriptor disagrees with the blob', async () => {
    const dir = path.join(await tempDir(), 'oci');
    const { manifest } = (await addTag(dir, 'v1', [{ layers: [{ files: { 'a.txt': 'a' } }] }])).images[0]!;
    const file = path.join(dir, 'blobs', 'sha256', manifest.digest.slice('sha256:'.length));
    const wrong = { digest: manifest.digest, size: manifest.size + 1 };
    const message = `${file}: ${manifest.size} bytes, not the ${manifest.size + 1} its descriptor says (the manifest)`;
    await expect(readLayoutDocument(dir, wrong, 'the manifest')).rejects.toThrow(message);
    const layout = await openLayout(dir);
    await expect(layout.document({ digest: manifest.digest, size: manifest.size }, 'the manifest')).resolves.toMatchObject({ file });
    await expect(layout.document(wrong, 'the manifest')).rejects.toThrow(message);
  });
});
