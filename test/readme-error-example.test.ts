// The README's example of a config mistake is what the command prints for it (it showed `error: …`, a format the
// CLI has not printed since errors carry their code, and no hint line).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-readme-error-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('README: "A mistake is reported with file, line, column and field"', () => {
  it('shows the exact stderr of a relative trees.app.mount at 7:29', async () => {
    const dir = path.join(root, 'games/g');
    for (const tree of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, tree), { recursive: true });
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      'game: g\nversion: 1.4.2\nstart: /s\ntrees:\n  engine: {source: engine}\n  engine-media: {source: engine-media}\n' +
        '  app: {source: app, mount: opt/app}\n  app-media: {source: app-media}\n',
    );
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    const readme = await readFile('README.md', 'utf8');
    const example = /A mistake is reported with file, line, column and field:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBe(r.stderr.replaceAll(root, ''));
  });
});
