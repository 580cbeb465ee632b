// Chunks turned off in gamelayer.yaml, the last build still chunked: a whole-file target (the server image as it is)
// is refused, and its hint must fit that state. It said "remove trees.app-media.chunks from gamelayer.yaml", which the
// user had just done; the way out is to build again. After that build the same command passes.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeChunkSources } from './support/chunked-tree.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

describe('a chunked build deployed after chunks were turned off in the config', () => {
  it('--volumes none is refused with a hint to build again; after the build it passes', async () => {
    const dir = await tempDir('chunks-off-deploy-');
    await writeChunkSources(dir, { a: 2 * MiB });
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(
      yaml,
      ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n'),
    );
    const built = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(', chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}', ''));

    const k8s = ['k8s', '-c', 'gamelayer.yaml', '--volumes', 'none', '--local', '--repository', '127.0.0.1:5000/chunky'];
    const refused = await runCli(k8s, { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error[chunks.whole-files]: --volumes none (the server image run as it is) needs whole files, but tree app-media is chunked');
    expect(refused.stderr).toContain(
      'hint: pass --volumes init (or image): the copy step assembles the files; or build again without trees.app-media.chunks in gamelayer.yaml, for whole files (docs/chunks.md)',
    );

    const rebuilt = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const passed = await runCli(k8s, { cwd: dir });
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toContain('kind: Pod');
    expect(passed.stdout).not.toContain('.gamelayer-chunks');
  }, 120_000);
});
