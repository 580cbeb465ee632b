// A folder nested deeper than Linux's PATH_MAX (4095 bytes) inside a tree: the walk failed with
// `error[internal]: ENAMETOOLONG … scandir '<4 KiB of path>'` and the "looks like a bug" hint. It is refused as
// scan.path-too-long, naming the tree and the path's two ends.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { walkDir } from '../src/scan/walk-dir.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** 25 nested folders of 200-character names in `root`, made by relative chdir steps (no full path could be). */
function nest(root: string): string {
  const name = 'n'.repeat(199);
  const script = `for (let i = 0; i < 25; i++) { const d = ${JSON.stringify(name)} + (i % 10); fs.mkdirSync(d); process.chdir(d); } fs.writeFileSync('deep.txt', 'x');`;
  execFileSync(process.execPath, ['-e', script], { cwd: root, stdio: 'pipe' });
  return name;
}
/** GNU rm descends relative to each folder; fs.rm (support/tmp.ts) cannot reach that deep. */
const unnest = (root: string) => execFileSync('sh', ['-c', 'for d in "$1"/n*; do rm -rf "$d"; done', 'sh', root]);

describe('scan: a path longer than PATH_MAX', () => {
  it('the walk refuses it with scan.path-too-long, with and without globs, naming the tree and the path ends', async () => {
    const dir = await tempDir();
    const name = nest(dir);
    try {
      for (const filters of [{ include: ['**'], exclude: [] }, { include: ['**/*.so'], exclude: ['**/*.debug'] }]) {
        const e = await walkDir(dir, filters, 'tree app').then(() => undefined, (err: unknown) => err as { code: string; message: string });
        expect(e?.code, JSON.stringify(filters)).toBe('scan.path-too-long');
        expect(e!.message).toMatch(/^tree app: a path in the tree is \d+ bytes, longer than Linux allows \(4095\): /);
        expect(e!.message).toContain(dir);
        expect(e!.message).toContain('…');
        expect(e!.message.length).toBeLessThan(300);
        expect(e!.message).not.toContain(name.repeat(2));
      }
    } finally {
      unnest(dir);
    }
  });

  it('gamelayer scan: a one-line error with its code, no "looks like a bug" hint', async () => {
    const game = await tempDir();
    copySample(game);
    nest(path.join(game, 'app'));
    const r = await runCli(['scan'], { cwd: game }).finally(() => unnest(path.join(game, 'app')));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error\[scan\.path-too-long\]: .*app.*: a path in the tree is \d+ bytes, longer than Linux allows \(4095\): /m);
    expect(r.stderr).not.toMatch(/bug|ENAMETOOLONG/);
    expect(r.stderr.length).toBeLessThan(600);
  });
});
