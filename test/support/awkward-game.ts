// The sample game with app-media names that sort differently by code point, UTF-16 and folder, escapes, links (one
// dangling), empty folders, a file hashed on the concurrent path and an executable: for the tests that check a
// second path (the packed entry store) writes exactly what the object path writes.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { copySample } from './sample.js';

/** Made in `dir`/game; `yamlExtra` appended to its gamelayer.yaml. Every file is made an hour old (kept by the stat cache's racy rule). */
export async function awkwardGame(dir: string, yamlExtra = ''): Promise<string> {
  const root = path.join(dir, 'game');
  copySample(root);
  const media = path.join(root, 'app-media');
  for (const d of ['ünïcødé/日本語', 'a-b', 'a/b/c', 'empty/nested']) await mkdir(path.join(media, d), { recursive: true });
  await writeFile(path.join(media, 'ünïcødé/日本語/😀 emoji.txt'), 'emoji\n');
  await writeFile(path.join(media, 'ünïcødé/日本語/\uFF21 fullwidth.txt'), 'fullwidth\n');
  await writeFile(path.join(media, 'ünïcødé/q"uo\\te'), 'quote\n');
  await writeFile(path.join(media, 'a/x'), '');
  await writeFile(path.join(media, 'a/b/c/deep'), 'deep\n');
  await writeFile(path.join(media, 'a-b/x'), 'x\n');
  // Above the size hashed synchronously: hashed through the concurrent path.
  await writeFile(path.join(media, 'big.pak'), Buffer.alloc(3 << 20, 7).fill(9, 1 << 20));
  await writeFile(path.join(media, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  for (let i = 0; i < 50; i++) await writeFile(path.join(media, 'a', `e${i}`), i % 2 ? '' : `${i}\n`);
  await symlink('ünïcødé/q"uo\\te', path.join(media, 'link'));
  await symlink('../nowhere', path.join(media, 'empty', 'dangling'));
  if (yamlExtra) await writeFile(path.join(root, 'gamelayer.yaml'), `${await readFile(path.join(root, 'gamelayer.yaml'), 'utf8')}\n${yamlExtra}\n`);
  execFileSync('find', [root, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
  return root;
}
