// Builds small game trees on disk for tests.
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type Spec = Record<string, string | Buffer | { link: string } | { mode: number; content: string | Buffer }>;

export async function writeTree(root: string, spec: Spec): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [rel, v] of Object.entries(spec)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    if (typeof v === 'object' && 'link' in v) await symlink(v.link, file);
    else if (typeof v === 'object' && 'mode' in v) await writeFile(file, v.content, { mode: v.mode });
    else await writeFile(file, v);
  }
}

/** Moves every file's mtime well into the past, so the stat cache may trust it (racy window). */
export async function ageFiles(root: string, files: string[], seconds = 3600): Promise<void> {
  const t = new Date(Date.now() - seconds * 1000);
  for (const f of files) await utimes(path.join(root, f), t, t);
}

// A build-only game on scratch: the start is the stand-in binary, not start.sh, whose #!/bin/sh no layer holds (the
// build warns of that: start-interpreter-warning.test.ts).
export const GAME_YAML = `game: test-game
version: 1.0.0
start: /opt/local/engine/bin/server
trees:
  engine: {source: engine}
  engine-media: {source: engine-media}
  app: {source: app}
  app-media: {source: app-media}
`;

/** A four-tree game in `root` with a gamelayer.yaml. */
export async function writeGame(root: string): Promise<void> {
  await writeTree(path.join(root, 'engine'), {
    'start.sh': { mode: 0o755, content: '#!/bin/sh\necho start\n' },
    'bin/server': { mode: 0o755, content: Buffer.alloc(3000, 7) },
  });
  await writeTree(path.join(root, 'engine-media'), { 'shaders/a.glsl': 'void main(){}\n' });
  await writeTree(path.join(root, 'app'), {
    'config/server.cfg': 'port=33435\n',
    'config/current.cfg': { link: 'server.cfg' },
    'game.xml': '<game/>\n',
  });
  await writeTree(path.join(root, 'app-media'), {
    'paks/a.pak': Buffer.alloc(50_000, 1),
    'levels/l1/level.pak': Buffer.alloc(20_000, 2),
  });
  await writeFile(path.join(root, 'gamelayer.yaml'), GAME_YAML);
}

const TREE_DIRS = ['engine', 'engine-media', 'app', 'app-media'];

/**
 * The smallest game: four folders named after their trees, each holding `f.txt` (none with `files: false`), and a
 * gamelayer.yaml of the `head` lines, then `trees:` and a line per tree (so a line number in an error is the
 * head's). `source` gives a tree's YAML source value (default: its folder).
 */
export async function writeTinyGame(dir: string, head: string[], opts: { files?: boolean; source?: (tree: string) => string } = {}): Promise<void> {
  for (const t of TREE_DIRS) {
    await mkdir(path.join(dir, t), { recursive: true });
    if (opts.files !== false) await writeFile(path.join(dir, t, 'f.txt'), `${t}\n`);
  }
  const trees = TREE_DIRS.map((t) => `  ${t}: {source: ${opts.source ? opts.source(t) : t}}`);
  await writeFile(path.join(dir, 'gamelayer.yaml'), [...head, 'trees:', ...trees, ''].join('\n'));
}
