// A tree whose include globs match nothing of a source that holds files (`include: [Server.x86]` for the binary
// `Server.x86_64`) scanned empty and built an image without the engine; nothing said so. scan and build now warn,
// naming the tree, its include and the source. An empty folder meant to be empty (gamelayer-empty) says nothing.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-empty-globs-');
  for (const t of ['engine', 'engine-media', 'app']) {
    await mkdir(path.join(dir, t), { recursive: true });
    await writeFile(path.join(dir, t, 'f.txt'), `${t}\n`);
  }
  await writeFile(path.join(dir, 'engine', 'Server.x86_64'), '#!/bin/sh\n', { mode: 0o755 });
  await mkdir(path.join(dir, 'empty'));
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    [
      'game: empty-globs',
      'start: /opt/local/engine/Server.x86_64',
      'trees:',
      '  engine: {source: engine, include: [Server.x86]}',
      '  engine-media: {source: engine-media}',
      '  app: {source: app}',
      '  app-media: {source: empty}',
      '',
    ].join('\n'),
  );
});

describe('a tree whose globs leave nothing of a source with files', () => {
  it.each([['scan'], ['build']])('%s warns, naming the tree, its include and the source', async (command) => {
    const r = await runCli([command], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    // build also checks the start program (stop 47), which the same typo leaves out of the engine tree.
    const start =
      `warning: ${path.join(dir, 'gamelayer.yaml')}: start: /opt/local/engine/Server.x86_64 is in no tree: it lies under /opt/local/engine, the mount of trees.engine, ` +
      `whose source ${path.join(dir, 'engine')} holds no Server.x86_64 (its include / exclude leave Server.x86_64 out): the engine cannot start ` +
      '(Docker says "exec /opt/local/engine/Server.x86_64: no such file or directory"); correct start, or the tree\'s source or globs';
    expect(warnings).toEqual([
      ...(command === 'build' ? [start] : []),
      `warning: trees.engine: include ["Server.x86"] left nothing of ${path.join(dir, 'engine')}, which is not empty: the tree is empty (globs are relative to the source)`,
    ]);
  });
});
