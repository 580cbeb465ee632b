// The steady bench's node figures: a node downloads the layers it lacks and unpacks every layer from the first
// one that differs in the stack (containerd keys unpacked layers by the chain below them).
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCost, steadyChunks } from '../bench/steady.js';
import { tempDir } from './support/tmp.js';

const l = (digest: string, size: number) => ({ digest: `sha256:${digest}`, size });

describe('steady bench: node cost of moving from one image to the next', () => {
  it('downloads the layers it lacks, and unpacks from the first differing position up', () => {
    const held = [l('a', 100), l('b', 200), l('c', 300)];
    // b replaced in place, d added on top: c is held (no download) but sits above b (unpacked again).
    expect(nodeCost(held, [l('a', 100), l('x', 50), l('c', 300), l('d', 10)])).toEqual({ download: 60, unpack: 360 });
    // Only a new layer on top: download = unpack = its size.
    expect(nodeCost(held, [...held, l('d', 10)])).toEqual({ download: 10, unpack: 10 });
    // A layer dropped from the middle: nothing to download, everything above it unpacked again.
    expect(nodeCost(held, [l('a', 100), l('c', 300)])).toEqual({ download: 0, unpack: 300 });
    // A fresh node pulls and unpacks everything.
    expect(nodeCost([], held)).toEqual({ download: 600, unpack: 600 });
  });
});

describe('steady bench: which trees a month chunks', () => {
  it('what gamelayer init writes for the game by default (app media with a file of 64 MiB or more); --whole-files, --chunk', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'app-media/levels'), { recursive: true });
    await writeFile(path.join(dir, 'app-media/levels/a.pak'), '');
    await truncate(path.join(dir, 'app-media/levels/a.pak'), 64 * 1024 * 1024 - 1);
    expect(await steadyChunks(dir, {})).toEqual([]);
    await truncate(path.join(dir, 'app-media/levels/a.pak'), 64 * 1024 * 1024); // sparse: nothing written
    expect(await steadyChunks(dir, {})).toEqual(['app-media']);
    expect(await steadyChunks(dir, { wholeFiles: true })).toEqual([]);
    expect(await steadyChunks(dir, { chunk: ['app-media', 'app'] })).toEqual(['app-media', 'app']);
    // Where init keeps whole files (a path a chunked tree reserves), so does the month.
    await mkdir(path.join(dir, 'app-media/.gamelayer-chunks'));
    expect(await steadyChunks(dir, {})).toEqual([]);
  });
});
