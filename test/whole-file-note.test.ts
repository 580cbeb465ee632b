// A 4-byte edit in a 64 MiB pak: the build re-sent the whole file and said only "app-media: rebased (the change holds
// 99 % of the tree's bytes …)", never that chunked trees (docs/chunks.md) exist to send only what changed. It now
// names the file and the setting; an added big file, an unchanged one and a chunked tree get no such note.
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const PAK = 'levels/big.pak';
let dir: string;

async function editPak(at: number, bytes: string): Promise<void> {
  const f = await open(path.join(dir, 'app-media', PAK), 'r+');
  try {
    await f.write(Buffer.from(bytes), 0, bytes.length, at);
  } finally {
    await f.close();
  }
}

beforeAll(async () => {
  dir = await tempDir('gl-whole-note-');
  copySample(dir);
  await writeFile(path.join(dir, 'app-media', PAK), randomBytes(64 * 1024 * 1024));
}, 60_000);

describe('a big file changed in a tree that is not chunked', () => {
  it('added: no note (chunks would send it whole too)', async () => {
    const r = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('sent whole again');
  });

  it('edited in place: the build names it and the chunks setting; --json lists it', async () => {
    await editPak(1000, 'XXXX');
    const r = await runCli(['build', '--tag', 'v2', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { summary: { wholeFiles?: unknown } }).summary.wholeFiles).toEqual([{ tree: 'app-media', path: PAK, bytes: 64 * 1024 * 1024 }]);
    await editPak(5000, 'YYYY');
    const text = await runCli(['build', '--tag', 'v3'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`app-media: ${PAK} (64.0 MiB) changed and was sent whole again; a chunked tree sends only the chunks that changed (trees.app-media.chunks, docs/chunks.md)`);
  });

  it('unchanged (a no-op build): no note', async () => {
    const r = await runCli(['build', '--tag', 'v4'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('sent whole again');
  });

  it('in a chunked tree: no note (only its new chunks are sent)', async () => {
    const yaml = path.join(dir, 'gamelayer.yaml');
    const text = await readFile(yaml, 'utf8');
    expect(text).toContain('    source: ./app-media\n');
    await writeFile(yaml, text.replace('    source: ./app-media\n', '    source: ./app-media\n    chunks: {}\n'));
    expect((await runCli(['build', '--tag', 'c1'], { cwd: dir })).code).toBe(0);
    await editPak(9000, 'ZZZZ');
    const r = await runCli(['build', '--tag', 'c2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('sent whole again');
  });
});
