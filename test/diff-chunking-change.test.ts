// `diff` when trees.<tree>.chunks itself changed: every big file's entries change (cut again at another chunk size,
// or turned into a whole file and back), though the user may not have touched a byte. Before, the diff listed
// "~ paks/a.pak (chunked)" for an untouched file, or the same path both added and removed, and said nothing of why.
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeChunkSources } from './support/chunked-tree.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;
const CHUNKS = 'chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}';

async function setChunks(dir: string, chunks: string): Promise<void> {
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/, chunks: \{[^}]*\}|(?=\}\n$)/, chunks ? `, ${chunks}` : ''));
}

describe('diff of a tree whose chunk settings changed', () => {
  it('says so first; a file cut again with the same content is marked so; --json carries chunking and recut', async () => {
    const dir = await tempDir('diff-chunking-');
    await writeChunkSources(dir, { a: 3 * MiB, b: 2 * MiB });
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', `  app-media: {source: app-media, ${CHUNKS}}`, ''].join('\n'),
    );
    const built = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    // Another chunk size, and b.pak really changed: a.pak is only cut again, b.pak is modified.
    await setChunks(dir, 'chunks: {minFileSize: 1MiB, avgChunkSize: 128KiB}');
    const f = await open(path.join(dir, 'app-media/paks/b.pak'), 'r+');
    await f.write(Buffer.from('XXXXXXXX'), 0, 8, 100_000);
    await f.close();
    const recut = await runCli(['diff', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(recut.code, recut.stderr).toBe(0);
    const block = recut.stdout.slice(recut.stdout.indexOf('\napp-media:\n'));
    expect(block).toContain(
      '\napp-media:\n  chunking: chunks of ~64.0 KiB in files ≥ 1.00 MiB → chunks of ~128 KiB in files ≥ 1.00 MiB (trees.app-media.chunks changed): chunked files are cut again\n' +
        '  ~ paks/a.pak (chunked, cut again: same content)\n  ~ paks/b.pak (chunked)\n',
    );
    const json = await runCli(['diff', '-c', 'gamelayer.yaml', '--json'], { cwd: dir });
    const tree = (JSON.parse(json.stdout) as { trees: { label: string; chunking?: unknown; recut?: string[] }[] }).trees.find((t) => t.label === 'app-media')!;
    expect(tree.chunking).toEqual({ before: { minFileSize: MiB, avgChunkSize: 64 * 1024 }, after: { minFileSize: MiB, avgChunkSize: 128 * 1024 } });
    expect(tree.recut).toEqual(['paks/a.pak']);
    expect((JSON.parse(json.stdout) as { trees: { label: string; chunking?: unknown }[] }).trees.filter((t) => t.chunking).map((t) => t.label)).toEqual(['app-media']);

    // Chunks off: the same paths show as recipes removed and files added, under a line that says why.
    await setChunks(dir, '');
    const off = await runCli(['diff', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toContain(
      '\napp-media:\n  chunking: chunks of ~64.0 KiB in files ≥ 1.00 MiB → whole files (trees.app-media.chunks changed): chunked files become whole files (a recipe removed, the file added)\n  + paks/a.pak (3.00 MiB)\n',
    );
  }, 120_000);
});
