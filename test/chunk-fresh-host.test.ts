// A fresh host (no .gamelayer/: no recipe cache, no stat cache) building a change of a chunked game planned on the
// registry's previous build: the chunker runs only on the big file that changed, the unchanged one's chunk list comes
// from the previous build's record, and the images are the warm host's, digest for digest. Real registry
// (distribution 2.8), the library's build and push. Bytes given to the chunker are counted on its one entry point.
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import { chunkedHost, writeChunkSources } from './support/chunked-tree.js';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Chunker } from '../src/chunk/fastcdc.js';
import { loadConfig } from '../src/config/load.js';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { prng } from './support/prng.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const KiB = 1024;
const MiB = 1024 * KiB;


/** The sources, shared by both hosts (each host is a folder with its own gamelayer.yaml and state). */
const makeSources = (dir: string) => writeChunkSources(dir, { a: 3 * MiB + 100, b: 2 * MiB }, { 'readme.txt': 'small files stay whole' });

/** The host's gamelayer.yaml. */
async function host(root: string, name: string, sources: string): Promise<string> {
  return path.join(await chunkedHost(root, name, sources, 'fresh-chunks'), 'gamelayer.yaml');
}

/** Bytes handed to the chunker (its gear hash and cut-point skipping) since the last call. */
let chunkerBytes = 0;
const cut = Chunker.prototype.cut;
vi.spyOn(Chunker.prototype, 'cut').mockImplementation(function (this: Chunker, buf: Uint8Array, start: number) {
  const end = cut.call(this, buf, start);
  chunkerBytes += (end < 0 ? buf.length : end) - start;
  return end;
});
function takeChunkerBytes(): number {
  const n = chunkerBytes;
  chunkerBytes = 0;
  return n;
}

const registry = useRegistry();

describe('a fresh host builds a chunked game from the registry state', () => {
  it('chunks only the big file that changed; the unchanged one comes from the previous record; same digests as the warm host', async () => {
    const root = await tempDir('gl-chunk-fresh-');
    const sources = path.join(root, 'sources');
    await makeSources(sources);
    const repository = `${registry.host}/studio/fresh-chunks`;
    const warm = await loadConfig(await host(root, 'warm', sources));

    const first = await build({ config: warm, tag: 'v1', push: repository, line: 'main' });
    expect(takeChunkerBytes()).toBe(3 * MiB + 100 + 2 * MiB);
    await pushBuild({ store: first.store, record: first.record, repository, stateDir: warm.stateDir });

    // The day's change: a small file, and 100 KiB rewritten in b.pak.
    await writeFile(path.join(sources, 'app/app.cfg'), 'port=2\n');
    const fh = await open(path.join(sources, 'app-media/paks/b.pak'), 'r+');
    await fh.write(prng('patch', 100 * KiB), 0, 100 * KiB, MiB);
    await fh.close();
    const bSize = (await stat(path.join(sources, 'app-media/paks/b.pak'))).size;

    // Neither host pushes the change: both are planned on v1, the registry's newest record of the line.
    const warmBuild = await build({ config: warm, tag: 'v2', push: repository, line: 'main' });
    expect(takeChunkerBytes()).toBe(bSize);

    const fresh = await loadConfig(await host(root, 'fresh', sources));
    const freshBuild = await build({ config: fresh, tag: 'v2', push: repository, line: 'main' });
    // Before the record carried chunk lists the fresh host chunked a.pak as well (3 MiB more).
    expect(takeChunkerBytes()).toBe(bSize);
    expect(freshBuild.summary.previous.source).toBe('registry');
    const stats = freshBuild.scans.find((s) => s.manifest.tree === 'app-media') as unknown as { chunkStats: { fromRecord: number } };
    expect(stats.chunkStats.fromRecord).toBe(1);

    const digests = (r: typeof warmBuild) => r.record.images.map((i) => `${i.name} ${i.platform ?? ''} ${i.digest}`);
    expect(digests(freshBuild)).toEqual(digests(warmBuild));
    expect(freshBuild.record.manifests.map((m) => m.digest)).toEqual(warmBuild.record.manifests.map((m) => m.digest));
    // The fresh host's recipe cache now holds a.pak's list: its next build is a warm one.
    expect((await readdir(path.join(fresh.stateDir, 'cache/recipes'))).length).toBe(2);
    // The records carry both chunk lists.
    for (const r of [first, freshBuild]) expect(r.record.manifests.find((m) => m.tree === 'app-media')!.recipes!.map((x) => x.path).sort()).toEqual(['paks/a.pak', 'paks/b.pak']);
  }, 180_000);
});
