// `inspect` of a build with a chunked tree counted the tree's chunk and recipe entries as its files: two 2 MiB paks
// and a small file in app-media came out as "56 files". A chunked tree's files are now those a copy of it holds (its
// big files whole), with their bytes, and its chunks are counted in a column (and `--json` field) of their own.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeChunkSources } from './support/chunked-tree.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

describe('inspect of a build with a chunked tree', () => {
  it("counts the tree's files, not its chunks, and the chunks apart", async () => {
    const dir = await tempDir('inspect-chunked-');
    await writeChunkSources(dir, { a: 2 * MiB, b: 2 * MiB }, { 'small.txt': 'hi\n' });
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n'),
    );
    const build = await runCli(['build', '-t', 'v1'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);

    const json = await runCli(['inspect', '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const trees = (JSON.parse(json.stdout) as { trees: { tree: string; files: number; bytes: number; chunks?: number }[] }).trees;
    const media = trees.find((t) => t.tree === 'app-media')!;
    expect({ files: media.files, bytes: media.bytes }).toEqual({ files: 3, bytes: 4 * MiB + 3 });
    expect(media.chunks).toBeGreaterThan(2 * 2 * MiB / (256 * 1024));
    expect(trees.find((t) => t.tree === 'app')!.chunks).toBeUndefined();

    const text = await runCli(['inspect'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^TREE +FILES +BYTES +CHUNKS +DIGEST$/m);
    expect(text.stdout).toMatch(new RegExp(`^app-media +3 +4\\.00 MiB +${media.chunks} +[0-9a-f]{12}$`, 'm'));
    expect(text.stdout).toMatch(/^app +1 +7 B +- +[0-9a-f]{12}$/m);
  }, 120_000);
});
