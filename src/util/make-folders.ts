// mkdir -p without Node's loop: `mkdir(dir, { recursive: true })` spins forever, at full CPU, when creating a folder
// fails with ENOENT although its parent exists (a path under /proc or /sys: `k8s --out /proc/x` never returned).
// Here each level is created once: a second ENOENT is the error it is.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errno.js';

export async function makeFolders(dir: string): Promise<void> {
  const abs = path.resolve(dir);
  try {
    await mkdir(abs);
    return;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST' && (await stat(abs).then((s) => s.isDirectory(), () => false))) return;
    const parent = path.dirname(abs);
    if (code !== 'ENOENT' || parent === abs) throw e;
    await makeFolders(parent);
  }
  await mkdir(abs).catch(async (e: unknown) => {
    // Made meanwhile by another writer: as good as made here.
    if (errnoCode(e) === 'EEXIST' && (await stat(abs).then((s) => s.isDirectory(), () => false))) return;
    throw e;
  });
}
