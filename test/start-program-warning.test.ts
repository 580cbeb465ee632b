// A start program the image cannot run, on any base, built and pushed without a word: a typo in `start` under a
// tree's mount (ShooterGameServr), or a server binary that lost its execute bit on the way (a copy or archive step
// that drops modes): Docker then said "no such file or directory" or "permission denied" at the first run. build,
// dockerfile and load now warn, naming the program, the tree and the source file; the build goes on. The checks run
// on a busybox base too (the interpreter check is scratch-only), and a base's own program outside the trees is quiet.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { busyboxImage, removeImages, runImage, saveImage } from './support/docker-images.js';
import { tempDir } from './support/tmp.js';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];
const created: string[] = [];
afterAll(() => removeImages(created));

let dir: string;
let base: string;
beforeAll(async () => {
  dir = await tempDir('gl-start-program-');
  base = `docker-archive:${await saveImage(await busyboxImage(), dir)}`;
  for (const t of TREES) await mkdir(path.join(dir, t));
  await mkdir(path.join(dir, 'app', 'Binaries'));
  await writeFile(path.join(dir, 'app', 'Binaries', 'GameServer'), '#!/bin/sh\necho server up\n');
});

async function buildWith(start: string, mode: number, tag: string): Promise<{ code: number | null; warnings: string[] }> {
  await chmod(path.join(dir, 'app', 'Binaries', 'GameServer'), mode);
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: start-program', `baseImage: ${base}`, `start: [${start}]`, 'trees:', ...TREES.map((t) => `  ${t}: {source: ${t}${t === 'app' ? ', mount: /opt/game' : ''}}`), ''].join('\n'),
  );
  const r = await runCli(['build', '--json', '--tag', tag], { cwd: dir });
  return { code: r.code, warnings: r.stderr.split('\n').filter((l) => l.startsWith('warning:')) };
}

describe('a start program the image cannot run', () => {
  it('a typo under a tree mount: the warning names the tree and the source', async () => {
    const r = await buildWith('/opt/game/Binaries/GameServr', 0o755, 'typo');
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([
      `warning: ${path.join(dir, 'gamelayer.yaml')}: start: /opt/game/Binaries/GameServr is in no tree: it lies under /opt/game, the mount of trees.app, ` +
        `whose source ${path.join(dir, 'app')} holds no Binaries/GameServr: the engine cannot start ` +
        '(Docker says "exec /opt/game/Binaries/GameServr: no such file or directory"); correct start, or the tree\'s source or globs',
    ]);
  });

  it('no execute bit: the warning says chmod +x, and docker run fails with permission denied', async () => {
    const r = await buildWith('/opt/game/Binaries/GameServer', 0o644, 'noexec');
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([
      `warning: ${path.join(dir, 'gamelayer.yaml')}: start: /opt/game/Binaries/GameServer (${path.join(dir, 'app', 'Binaries', 'GameServer')}) has no execute bit: ` +
        'the engine cannot start (Docker says "permission denied"); chmod +x it in the source before the build (a copy or an archive step that drops modes does this)',
    ]);
    const load = await runCli(['load', '--tag', 'noexec'], { cwd: dir });
    expect(load.code, load.stderr).toBe(0);
    created.push('start-program:noexec', ...TREES.map((t) => `start-program:noexec-${t}`));
    const ran = await runImage('start-program:noexec').catch((e: Error) => ({ code: -1, output: e.message }));
    expect(ran.output).toContain('permission denied');
  });

  it('an archive source: a member without an execute bit is warned of too (archive sources went unchecked)', async () => {
    await chmod(path.join(dir, 'app', 'Binaries', 'GameServer'), 0o644);
    execFileSync('tar', ['-czf', path.join(dir, 'app.tar.gz'), '-C', path.join(dir, 'app'), '.']);
    const yaml = (start: string) =>
      ['game: start-program', `baseImage: ${base}`, `start: [${start}]`, 'trees:', ...TREES.map((t) => `  ${t}: {source: ${t === 'app' ? 'app.tar.gz, mount: /opt/game' : t}}`), ''].join('\n');
    await writeFile(path.join(dir, 'gamelayer.yaml'), yaml('/opt/game/Binaries/GameServer'));
    const r = await runCli(['build', '--json', '--tag', 'archive'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([
      `warning: ${path.join(dir, 'gamelayer.yaml')}: start: /opt/game/Binaries/GameServer (Binaries/GameServer in ${path.join(dir, 'app.tar.gz')}) has no execute bit: ` +
        'the engine cannot start (Docker says "permission denied"); chmod +x it in the tree before it is archived (a copy or an archive step that drops modes does this)',
    ]);
    // The member's execute bit read from a tarball made with it: quiet.
    await chmod(path.join(dir, 'app', 'Binaries', 'GameServer'), 0o755);
    execFileSync('tar', ['-czf', path.join(dir, 'app.tar.gz'), '-C', path.join(dir, 'app'), '.']);
    const fine = await runCli(['build', '--json', '--tag', 'archive'], { cwd: dir });
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stderr).not.toContain('warning:');
  });

  it.each([
    ['the program as it is', '/opt/game/Binaries/GameServer'],
    ["the base's own program, outside every tree", '/bin/sh'],
  ])('%s: no warning', async (_name, start) => {
    const r = await buildWith(start, 0o755, 'fine');
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([]);
  });
});
