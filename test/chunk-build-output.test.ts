// What a build says of a chunked tree's big files: a first build chunks them in the scan's read (one read gives the
// xxh64 and the chunk list), and its line said "2 from the recipe cache", as if nothing had been chunked.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeChunkSources } from './support/chunked-tree.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;
const CONFIG = ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n');
const chunkLine = (out: string) => out.split('\n').find((l) => l.startsWith('chunk app-media: '));

describe('the chunk line of a build', () => {
  it('a first build: the files chunked while hashing are said so; a build of the same files: from the recipe cache', async () => {
    const dir = await tempDir('chunk-build-output-');
    await writeChunkSources(dir, { a: 2 * MiB, b: 2 * MiB });
    await writeFile(path.join(dir, 'gamelayer.yaml'), CONFIG);
    const first = await runCli(['build', '-c', 'gamelayer.yaml', '-t', 'v1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(chunkLine(first.stderr)).toMatch(/^chunk app-media: 2 files, \d+ chunks, 2 chunked while hashing /);
    const again = await runCli(['build', '-c', 'gamelayer.yaml', '-t', 'v2'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(chunkLine(again.stderr)).toMatch(/^chunk app-media: 2 files, \d+ chunks, 2 from the recipe cache /);
  }, 120_000);

  it('one big file: "1 file", not "1 files"', async () => {
    const dir = await tempDir('chunk-build-output-');
    await writeChunkSources(dir, { a: 2 * MiB });
    await writeFile(path.join(dir, 'gamelayer.yaml'), CONFIG);
    const first = await runCli(['build', '-c', 'gamelayer.yaml', '-t', 'v1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(chunkLine(first.stderr)).toMatch(/^chunk app-media: 1 file, \d+ chunks, 1 chunked while hashing /);
  }, 120_000);
});
