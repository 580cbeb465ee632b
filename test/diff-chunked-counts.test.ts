// `diff` of a chunked tree counts the user's files (a partly rewritten pak is one modified file of its own size),
// not the chunk entries its layers hold; the chunks keep their own line, and --json keeps both views.
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeChunkSources } from './support/chunked-tree.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

describe('diff of a chunked tree', () => {
  it('counts files, not chunks', async () => {
    const dir = await tempDir('diff-chunked-');
    await writeChunkSources(dir, { a: 6 * MiB, b: 3 * MiB }, { 'readme.txt': 'small files stay whole' });
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n'),
    );
    const built = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    // 8 bytes rewritten inside a.pak (one chunk changes), a small file added, b.pak removed.
    const f = await open(path.join(dir, 'app-media/paks/a.pak'), 'r+');
    await f.write(Buffer.from('XXXXXXXX'), 0, 8, 100_000);
    await f.close();
    await writeFile(path.join(dir, 'app-media/new.txt'), 'new');
    const { rm } = await import('node:fs/promises');
    await rm(path.join(dir, 'app-media/paks/b.pak'));

    const text = await runCli(['diff', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    const row = text.stdout.split('\n').find((l) => l.startsWith('app-media '))!;
    // added 1 (new.txt, 3 B), modified 1 (a.pak at 6 MiB), removed 1 (b.pak at 3 MiB), unchanged: paks/ and readme.txt.
    expect(row.trim().split(/\s{2,}/)).toEqual(['app-media', '1', '1', '1', '2', '3 B', '6.00 MiB', '3.00 MiB']);
    expect(text.stdout).toMatch(/^ {2}chunks: \d+ new \(.+ to send\), \d+ no longer needed/m);

    const json = await runCli(['diff', '-c', 'gamelayer.yaml', '--json'], { cwd: dir });
    const media = (JSON.parse(json.stdout) as { trees: { label: string; added: unknown[]; files?: Record<string, number> }[] }).trees.find((t) => t.label === 'app-media')!;
    expect(media.files).toEqual({ added: 1, modified: 1, removed: 1, unchanged: 2, bytesAdded: 3, bytesModified: 6 * MiB, bytesRemoved: 3 * MiB });
    expect(media.added.length).toBeGreaterThan(1); // the entry view still lists the new chunks
  });
});
