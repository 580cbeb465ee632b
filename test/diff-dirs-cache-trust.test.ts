// `diff DIR DIR` keeps its stat cache in the temp folder. It used one fixed name there (gamelayer-diff-cache) and
// read whatever cache it found: another user could create that folder first and plant a cache that names a changed
// file's size, times and inode with the other side's hash, and the change disappeared from the diff. Now only a
// folder of this user's own that no one else may write is read; a planted one is not trusted (a warning says so).
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

/** Every stat cache under `dir` claims, for the file `b/f`, the hash the cache holds for `a/f` (checksum redone). */
async function plant(dir: string): Promise<number> {
  const files = (await readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
  const rows = await Promise.all(files.map(async (f) => ({ f, raw: await readFile(f) })));
  const hashOf = (raw: Buffer) => /"xxh64":"([0-9a-f]{16})"/.exec(raw.toString())![1]!;
  const [first, second] = rows;
  const wanted = hashOf(first!.raw);
  let planted = 0;
  for (const { f, raw } of [second!]) {
    const cut = raw.indexOf(0x0a);
    const body = Buffer.from(raw.subarray(cut + 1).toString().replace(hashOf(raw), wanted));
    const head = JSON.parse(raw.subarray(0, cut).toString()) as { sha256: string };
    head.sha256 = createHash('sha256').update(body).digest('hex');
    await writeFile(f, Buffer.concat([Buffer.from(`${JSON.stringify(head)}\n`), body]));
    planted++;
  }
  return planted;
}

describe('diff DIR DIR trusts only its own stat cache', () => {
  it("a cache planted by another user in the temp folder does not hide a change", async () => {
    const root = await tempDir();
    const tmp = path.join(root, 'tmp');
    await mkdir(tmp, { mode: 0o1777 });
    await chmod(tmp, 0o1777);
    for (const [side, text] of [['a', '1111\n'], ['b', '2222\n']] as const) {
      await mkdir(path.join(root, side));
      await writeFile(path.join(root, side, 'f'), text);
      // Older than the scan's "just written" window, so the stat cache keeps its row.
      await utimes(path.join(root, side, 'f'), new Date('2026-01-01'), new Date('2026-01-01'));
    }
    const env = { TMPDIR: tmp };
    // The victim's diff as it is: the change is seen.
    const honest = await runCli(['diff', 'a', 'b', '--json'], { cwd: root, env });
    expect(honest.code, honest.stderr).toBe(0);
    expect((JSON.parse(honest.stdout) as { changed: boolean }).changed).toBe(true);

    // The attacker (uid 65534) owns the cache folders and rewrites the caches: b/f claims a/f's hash.
    for (const name of await readdir(tmp)) {
      const dir = path.join(tmp, name);
      expect(await plant(dir)).toBe(1);
      for (const f of [dir, ...(await readdir(dir, { recursive: true })).map((p) => path.join(dir, String(p)))]) await chown(f, 65534, 65534);
      await chmod(dir, 0o777);
    }
    const after = await runCli(['diff', 'a', 'b', '--json'], { cwd: root, env });
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { changed: boolean }).changed).toBe(true);
    expect(after.stderr).toContain('belongs to uid 65534: its stat cache is not trusted; every file is hashed');
  });
});
