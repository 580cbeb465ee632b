// `gamelayer dockerfile` / `build --builder docker` with names the Dockerfile's own syntax would read: a mount holding
// `$` (COPY expands variables even in its JSON form, and reads `\` as its escape: `/srv/game/$PATH x\y` was read as
// `/srv/game//bin xy`, in the tree's stage too, where no such folder is, and the docker build failed), and a config
// file whose name holds a newline (the header comment ended there and the rest was an instruction: `RUN …`).
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import type { TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'dockerfile-odd-test';
const TREES = ['engine', 'engine-media', 'app', 'app-media'];
const at = { mtime: new Date(0), uid: 0, gid: 0 };
const dir = (name: string, mode = 0o755, uid = 0): TarEntry => ({ ...at, name, type: 'directory', mode, uid, gid: uid });
const MOUNT = '/srv/game/$PATH x\\y';
let root: string;
let base: string;

async function writeConfig(file: string): Promise<void> {
  await writeFile(
    path.join(root, file),
    [`game: ${GAME}`, 'version: 1.0.0', `baseImage: ${base}`, 'start: ["/bin/sh", "-c", "sleep 1"]', 'trees:', ...TREES.map((t) => `  ${t}: {source: ./${t}${t === 'app' ? `, mount: ${JSON.stringify(MOUNT)}` : ''}}`), ''].join('\n'),
  );
}

beforeAll(async () => {
  root = await tempDir('gl-df-odd-');
  for (const t of TREES) {
    await mkdir(path.join(root, t));
    await writeFile(path.join(root, t, 'hello.txt'), `${t}\n`);
  }
  // /srv/game is the server user's: the app tree's layers are copied to its mount, whose path is in the COPY line.
  base = await writeBusyboxLayout(path.join(root, 'base'), { extraLayers: [[dir('srv/'), dir('srv/game/', 0o750, 1000)]] });
}, 60_000);

afterAll(() => {
  removeImagesAfterRun([`${GAME}:odd`, ...TREES.map((t) => `${GAME}:odd-${t}`)]);
});

describe('dockerfile with names Docker would read', () => {
  it('a mount holding $ and \\: docker puts the tree at that very path', async () => {
    await writeConfig('gamelayer.yaml');
    const r = await runCli(['build', '--builder', 'docker', '--docker-compat', '--tag', 'odd'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const ls = spawnSync('docker', ['run', '--rm', '--entrypoint', 'sh', `${GAME}:odd`, '-c', 'cat "$1/hello.txt"; ls /srv/game', 'sh', MOUNT], { encoding: 'utf8' });
    expect(ls.stderr).toBe('');
    expect(ls.stdout).toBe(`app\n${path.basename(MOUNT)}\n`);
  });

  it('a config file named with a newline: the header stays one comment line', async () => {
    const name = 'g\nRUN echo injected\n.yaml';
    await writeConfig(name);
    const r = await runCli(['-c', name, 'dockerfile', '--out', 'df'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['Dockerfile', 'Dockerfile.app', '.dockerignore']) {
      const text = await readFile(path.join(root, 'df', f), 'utf8');
      expect(text.split('\n').filter((l) => l.startsWith('RUN')), f).toEqual([]);
      expect(text).toContain('from g RUN echo injected .yaml; do not edit.');
    }
  });
});
