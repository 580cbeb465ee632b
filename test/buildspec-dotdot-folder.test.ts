// A game in a folder whose name starts with two dots (`..x`, inside the source root): the buildspecs tested
// "outside the root" with the relative path's `..` prefix, so they refused it as outside (buildspec.outside-source).
// A config really outside the root is still refused.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];

async function game(dir: string, platforms: string[]): Promise<void> {
  for (const t of TREES) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: dots', 'start: [/opt/local/engine/run]', `platforms: [${platforms.join(', ')}]`, 'trees:', ...TREES.map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'),
  );
}

describe('codebuild buildspec of a game in a folder named ..x', () => {
  it.each([
    ['buildspec', [], ['linux/amd64']],
    ['buildspec --batch', ['--batch'], ['linux/amd64', 'linux/arm64']],
  ])('%s names the config and state folder inside the root', async (_name, flags, platforms) => {
    const root = await tempDir('gl-bs-dots-');
    await game(path.join(root, '..x'), platforms);
    const r = await runCli(['-c', '..x/gamelayer.yaml', 'codebuild', 'buildspec', ...flags], { cwd: root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const spec = parse(r.stdout) as { env: { variables: Record<string, string> } };
    expect(spec.env.variables.GAMELAYER_CONFIG).toBe('..x/gamelayer.yaml');
    expect(r.stdout).toContain('..x/.gamelayer/');
  });

  it('a config in ../x (outside the root) is still refused', async () => {
    const parent = await tempDir('gl-bs-dots-');
    await game(path.join(parent, 'x'), ['linux/amd64']);
    await mkdir(path.join(parent, 'root'));
    const r = await runCli(['-c', '../x/gamelayer.yaml', 'codebuild', 'buildspec'], { cwd: path.join(parent, 'root') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[buildspec.outside-source]: the config ${path.join(parent, 'x/gamelayer.yaml')} is outside the source root ${path.join(parent, 'root')}`);
  });
});
