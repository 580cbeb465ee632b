// A foreign OCI layout (`push --store DIR`: a layout someone else wrote, or an index.json edited by hand) whose tagged
// manifest is sound JSON under a sound digest, but not a manifest or an index: `null`, a `layers` that is no list, a
// `manifests` entry that is no descriptor. The reader took its fields on trust: `error[internal]: Cannot read
// properties of null` and the like. Each is `layout.invalid` now, naming the blob file and the field, as `ls` and `gc`
// already said of such a document.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useReapedCli } from './support/reaped-cli.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const run = useReapedCli();

const A = `sha256:${'a'.repeat(64)}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A layout whose tag `t` names a blob holding `text`; returns the blob's file and digest. */
async function layoutOf(dir: string, text: string): Promise<{ file: string; digest: string }> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const file = path.join(dir, 'blobs', 'sha256', digest.slice(7));
  await writeFile(file, text);
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const entry = { mediaType: MANIFEST, digest, size: Buffer.byteLength(text), annotations: { 'org.opencontainers.image.ref.name': 't' } };
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  return { file, digest };
}

const cases: [string, string, string][] = [
  ['null', 'null', 'not a manifest or an index'],
  ['layers that is an object', JSON.stringify({ config: { mediaType: 'x', digest: A, size: 1 }, layers: {} }), 'layers: not a list'],
  ['layers holding null', JSON.stringify({ config: { mediaType: 'x', digest: A, size: 1 }, layers: [null] }), 'layers[0]: not a descriptor object'],
  ['manifests that is an object', JSON.stringify({ manifests: {} }), 'manifests: not a list'],
  ['manifests holding null', JSON.stringify({ manifests: [null] }), 'manifests[0]: not a descriptor object'],
  ['a config size that is a string', JSON.stringify({ config: { mediaType: 'x', digest: A, size: '1' }, layers: [] }), 'config: size "1" is not a byte count'],
];

describe('push --store of a foreign layout whose manifest is other JSON', () => {
  for (const [name, text, said] of cases) {
    it(`${name}: layout.invalid naming the blob and the field (was: error[internal] or another blob's error)`, async () => {
      const dir = await tempDir('gl-foreign-doc-');
      await writeTinyGame(dir, ['game: foreign', 'start: [/opt/local/engine/run]']);
      const { file, digest } = await layoutOf(path.join(dir, 'foreign'), text);
      const r = await run(['push', '--store', 'foreign', '--image', 't', '127.0.0.1:9/studio/game'], dir, { env: { GAMELAYER_REGISTRY_RETRIES: '1' } });
      expect(r.stderr).toContain(`error[layout.invalid]: ${file}: ${said} (manifest ${digest})\nhint: the store is damaged: rebuild the image\n`);
      expect(r.code).toBe(1);
    });
  }
});
