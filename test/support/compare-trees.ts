// File-for-file comparison of two directory trees: paths, types, content, executable bit, link targets.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export async function describeTree(root: string, skip: (rel: string) => boolean = () => false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const full = path.join(root, r);
      const s = await lstat(full);
      if (s.isSymbolicLink()) out[r] = `link ${await readlink(full)}`;
      else if (s.isDirectory()) {
        out[r] = 'dir';
        await walk(r);
      } else {
        const sum = createHash('sha256').update(await readFile(full)).digest('hex').slice(0, 16);
        out[r] = `file ${s.mode & 0o111 ? 'x' : '-'} ${s.size} ${sum}`;
      }
    }
  }
  await walk('');
  return out;
}
