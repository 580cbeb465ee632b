// Child process for the concurrency test: writes blobs and tags into one store while another does too.
import { OciStore } from '../../src/oci/store.js';

const [dir, prefix, count] = process.argv.slice(2);
const store = await OciStore.open(dir!);
for (let i = 0; i < Number(count); i++) {
  const desc = await store.putJson(JSON.stringify({ prefix, i, shared: 'same-bytes-in-both' }), 'application/vnd.oci.image.manifest.v1+json');
  // A blob both processes write with identical bytes: one wins the rename, neither fails.
  await store.putJson('{"shared":true}', 'application/vnd.oci.empty.v1+json');
  await store.tag(`${prefix}-${i}`, desc);
}
