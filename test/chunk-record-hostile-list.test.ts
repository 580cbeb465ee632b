// A registry whose build record holds a chunk list edited to stay self-consistent (a.pak's first two chunks swapped,
// the file's sha256 and its recipe entry made to match the swapped bytes): a fresh host (no .gamelayer/) takes the
// lists of unchanged big files from that record, so it must check them against the files' bytes (in the scan's read)
// and chunk a.pak afresh with a warning naming the file and the record, never push the swapped recipe. Real registry
// (distribution), the CLI as a process.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { chunkedHost, writeChunkSources } from './support/chunked-tree.js';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { formatRecipe, recipePath } from '../src/chunk/recipe.js';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import type { BuildRecord } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const registry = useRegistry();

const makeSources = (dir: string) => writeChunkSources(dir, { a: 2 * MiB + 100, b: MiB + 7 });

/** A host: a folder of its own (its own .gamelayer/) whose gamelayer.yaml points at the shared sources. */
const host = (root: string, name: string, sources: string) => chunkedHost(root, name, sources, 'hostile-lists');

describe('a registry record whose chunk list is edited but self-consistent', () => {
  it('a fresh host checks it against the file, warns naming the file and the record, and pushes the true recipe', async () => {
    const root = await tempDir('gl-hostile-list-');
    const sources = path.join(root, 'sources');
    await makeSources(sources);
    const name = `studio/hostile-list-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const first = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: await host(root, 'warm', sources) });
    expect(first.code, first.stderr).toBe(0);

    const found = await fetchBuildRecordFor(`${repo}:v1`);
    const media = found.record.manifests.find((m) => m.tree === 'app-media')!;
    const original = media.recipes!.find((r) => r.path === 'paks/a.pak')!;
    expect(original.chunks.length).toBeGreaterThan(32);
    const chunkEntries = new Map(media.entries.filter((e) => e.path.startsWith('.gamelayer-chunks/c/')).map((e) => [path.basename(e.path).slice(0, 16), e]));
    const prefixes = original.chunks.match(/.{16}/g)!;
    const [c0, c1] = [chunkEntries.get(prefixes[0]!)!, chunkEntries.get(prefixes[1]!)!];
    expect(c0.size).not.toBe(c1.size);
    // The swapped file: chunk 1's bytes, then chunk 0's, then the rest. Its sha256 is what the edited list claims.
    const bytes = await readFile(path.join(sources, 'app-media/paks/a.pak'));
    const swapped = Buffer.concat([bytes.subarray(c0.size, c0.size + c1.size), bytes.subarray(0, c0.size), bytes.subarray(c0.size + c1.size)]);
    const sha256 = createHash('sha256').update(swapped).digest('hex');
    const order = [prefixes[1]!, prefixes[0]!, ...prefixes.slice(2)];
    const sha = (p: string) => path.basename(chunkEntries.get(p)!.path);
    const recipe = Buffer.from(formatRecipe({ size: original.size, mode: 0o644, sha256, xxh64: original.xxh64, chunks: order.map((p) => ({ sha256: sha(p), size: chunkEntries.get(p)!.size })) }));
    const h = await xxhash();
    const recipeXxh64 = h.h64Raw(recipe).toString(16).padStart(16, '0');
    const rp = recipePath('paks/a.pak');
    const edit = <E extends { path: string; size: number; xxh64?: string }>(entries: E[]): E[] => entries.map((e) => (e.path === rp ? { ...e, size: recipe.length, xxh64: recipeXxh64 } : e));
    const lie: BuildRecord = {
      ...found.record,
      manifests: found.record.manifests.map((m) =>
        m.tree === 'app-media' ? { ...m, entries: edit(m.entries), recipes: m.recipes!.map((r) => (r.path === 'paks/a.pak' ? { ...r, sha256, chunks: order.join('') } : r)) } : m,
      ),
    };
    const server = found.record.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
    const subject = { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) };
    await pushBuildRecord({ to: repo, record: lie, subject, tags: ['v1'], line: 'main' });
    // The edited record is what the registry now serves, and it reads as a sound record.
    expect((await fetchBuildRecordFor(`${repo}:v1`)).record.manifests.find((m) => m.tree === 'app-media')!.recipes!.find((r) => r.path === 'paks/a.pak')!.sha256).toBe(sha256);

    const fresh = await runCli(['build', '--push', repo, '--tag', 'v2', '--line', 'main'], { cwd: await host(root, 'fresh', sources) });
    expect(fresh.code, fresh.stderr).toBe(0);
    const v2 = (await fetchBuildRecordFor(`${repo}:v2`)).record;
    const v2media = v2.manifests.find((m) => m.tree === 'app-media')!;
    // The true recipe, not the swapped one: its list, its sha256, its recipe entry.
    expect(v2media.recipes!.find((r) => r.path === 'paks/a.pak')).toEqual(original);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(original.sha256);
    expect(v2media.entries.find((e) => e.path === rp)).toEqual(media.entries.find((e) => e.path === rp));
    // b.pak's list (not edited) came from the record: the same as the first build's.
    expect(v2media.recipes!.find((r) => r.path === 'paks/b.pak')).toEqual(media.recipes!.find((r) => r.path === 'paks/b.pak'));
    expect(fresh.stderr).toMatch(new RegExp(`paks/a\\.pak: the chunk list the build record of ${repo.replace(/[.]/g, '\\.')}:[^ ]+ gives for it does not match the file's bytes; not used \\(the file is chunked afresh\\)`));
    expect(fresh.stderr).not.toMatch(/b\.pak: the chunk list/);
    // The edited recipe entry also no longer matches the record's plan, so the plan is made afresh with a warning of
    // its own (the chunk list is taken in the scan, before that check), naming the registry's record, not a local
    // file this fresh host never had.
    expect(fresh.stderr).toMatch(new RegExp(`the previous build record \\(${repo.replace(/[.]/g, '\\.')}:[^ )]+\\) is damaged: app-media: its layers do not unpack`));

    // A warm host (stat cache: it does not read a.pak again) whose recipe cache is gone reads the file once to check
    // the record's list: the same warning, the true recipe.
    const warm = path.join(root, 'warm');
    await rm(path.join(warm, '.gamelayer/cache/recipes'), { recursive: true, force: true });
    await pushBuildRecord({ to: repo, record: { ...lie, createdAt: new Date(Date.now() + 3_600_000).toISOString() }, subject, tags: ['v1'], line: 'main' });
    const again = await runCli(['build', '--push', repo, '--tag', 'v3', '--line', 'main'], { cwd: warm });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/paks\/a\.pak: the chunk list the build record of [^ ]+ gives for it does not match the file's bytes/);
    expect(again.stderr).not.toMatch(/b\.pak: the chunk list/);
    const v3media = (await fetchBuildRecordFor(`${repo}:v3`)).record.manifests.find((m) => m.tree === 'app-media')!;
    expect(v3media.recipes!.find((r) => r.path === 'paks/a.pak')).toEqual(original);
  }, 240_000);
});
