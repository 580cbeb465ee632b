// `gamelayer init` wrote each field's comment a fixed number of blanks after the field: a long game name (from the
// build folder's name) put its comment, and the registry line's, far right of the others (past 150 characters,
// wrapped by an editor or terminal), while a short one put it left of them. The comments now line up at one column;
// a field too long for it has its comment on the line above. The config still loads, names unicode included.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

/** The column of each field line's comment: a `#` after the field, in the lines before `trees:`. */
function commentColumns(text: string): number[] {
  const head = text.slice(0, text.indexOf('\ntrees:'));
  return head
    .split('\n')
    .filter((l) => / {2,}# /.test(l))
    .map((l) => l.indexOf('#', l.search(/ {2,}# /)));
}

describe('init: the comments of the fields', () => {
  for (const [label, folder] of [
    ['a long folder name', 'dedicated-server-build-of-the-really-quite-long-named-game-project'],
    ['a short one', 'g'],
  ] as const) {
    it(`line up at one column, for ${label}`, async () => {
      const dir = path.join(await tempDir('gl-init-column-'), folder);
      await mkdir(path.join(dir, 'engine'), { recursive: true });
      await mkdir(path.join(dir, 'アプリ・データ・とても長いフォルダーの名前'), { recursive: true });
      const r = await runCli(['init', dir], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const text = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
      const columns = commentColumns(text);
      expect(columns.length).toBeGreaterThanOrEqual(3);
      expect(new Set(columns).size, text).toBe(1);
      // Every comment is said: a long field's above it.
      for (const c of ["the image repository's last path part", 'where push / build --push go', 'the local OCI image layout']) expect(text).toContain(`# ${c}`);
      expect((parse(text) as { game: string }).game).toBe(folder);
      const check = await runCli(['scan', '--json'], { cwd: dir });
      expect(check.code, check.stderr).toBe(0);
    });
  }
});
