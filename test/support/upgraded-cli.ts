// This checkout's CLI as another version of gamelayer: bin/ and the CLI bundle copied beside a package.json naming
// that version (version.ts reads it one or two folders above the bundle), node_modules linked. What an upgrade
// leaves unchanged (the same code makes the same layers) runs as before; what names the version says the new one.
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Makes the copy in `dir` (created) and returns its gamelayer.js, for runCli's `cli` option. */
export async function upgradedCli(dir: string, version: string): Promise<string> {
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  await cp(path.resolve('bin'), path.join(dir, 'bin'), { recursive: true });
  await cp(path.resolve('dist/cli-bundle'), path.join(dir, 'dist/cli-bundle'), { recursive: true });
  await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'));
  return path.join(dir, 'bin/gamelayer.js');
}
