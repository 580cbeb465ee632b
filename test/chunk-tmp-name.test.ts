// A chunked tree whose source holds `<chunked file>.gamelayer-tmp`: the init copy assembles the chunked file under
// that very name and renames it, so the copy removed the user's file (or, two files assembled at once, could move
// the wrong bytes into place) and still wrote .complete. Measured before the fix with run-local: the build passed
// and the engine found paks/big2.pak.gamelayer-tmp missing. Now the build refuses the tree, naming the file.
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

async function game(extra: (appMedia: string) => Promise<void>): Promise<string> {
  const dir = await tempDir('chunk-tmp-name-');
  for (const t of ['engine', 'engine-media', 'app', 'app-media/paks']) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\necho start\n', { mode: 0o755 });
  await writeFile(path.join(dir, 'engine-media/e.dat'), 'engine media');
  await writeFile(path.join(dir, 'app/app.cfg'), 'app');
  await writeFile(path.join(dir, 'app-media/paks/a.pak'), prng('a', 2 * MiB));
  await extra(path.join(dir, 'app-media'));
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n'),
  );
  return dir;
}

describe('a chunked tree holding the name the copy assembles a chunked file under', () => {
  const cases: { label: string; extra: (appMedia: string) => Promise<void>; name: string }[] = [
    { label: 'a small file', extra: (m) => writeFile(path.join(m, 'paks/a.pak.gamelayer-tmp'), 'a file of the game'), name: 'paks/a.pak.gamelayer-tmp' },
    { label: 'a chunked file too', extra: (m) => writeFile(path.join(m, 'paks/a.pak.gamelayer-tmp'), prng('b', 2 * MiB)), name: 'paks/a.pak.gamelayer-tmp' },
    { label: 'a folder', extra: (m) => mkdir(path.join(m, 'paks/a.pak.gamelayer-tmp')), name: 'paks/a.pak.gamelayer-tmp' },
    { label: 'a link', extra: (m) => symlink('a.pak', path.join(m, 'paks/a.pak.gamelayer-tmp')), name: 'paks/a.pak.gamelayer-tmp' },
  ];
  for (const c of cases) {
    it(`${c.label}: build refuses it (chunks.reserved-path), naming the path and the chunked file; nothing is built`, async () => {
      const dir = await game(c.extra);
      const r = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `error[chunks.reserved-path]: app-media: ${path.join(dir, 'app-media', c.name)}: the copy of a chunked tree assembles paks/a.pak under this name before renaming it, so the source cannot hold it beside that chunked file`,
      );
      expect(r.stderr).toContain('hint: rename it, or exclude it (trees.app-media.exclude), or raise trees.app-media.chunks.minFileSize above the size of paks/a.pak');
      expect(existsSync(path.join(dir, '.gamelayer/records/build-last.json'))).toBe(false);
    }, 60_000);
  }

  it('the same name beside a file too small to be chunked is an ordinary file: the build passes', async () => {
    const dir = await game(async (m) => {
      await writeFile(path.join(m, 'small.txt'), 'small');
      await writeFile(path.join(m, 'small.txt.gamelayer-tmp'), 'kept whole, never assembled');
    });
    const r = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});
