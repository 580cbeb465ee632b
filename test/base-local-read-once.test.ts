// A local base (an OCI layout or an OCI archive) is copied into the store, and its layers' tars were then read back
// from the store to find the folders above and at the trees' mounts: each layer's file read twice, decompressed once
// more. The copy's one pass now walks the tar for them too (stop 45), as a registry base's download does: the stored
// blobs are never opened. Counted with strace, as base-diffid-lie.test.ts counts a registry base's.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

let layout: string;
let blobs: string[];

beforeAll(async () => {
  layout = path.join(await tempDir('gl-local-once-'), 'base');
  // A second layer holds the folder above app's mount as uid 1000 0750: what the walk on the way in must find.
  const at = { mtime: new Date(0), uid: 0, gid: 0, type: 'directory' as const };
  await writeBusyboxLayout(layout, { extraLayers: [[{ ...at, name: 'srv/', mode: 0o755 }, { ...at, name: 'srv/steam/', mode: 0o750, uid: 1000, gid: 1000 }]] });
  blobs = await readdir(path.join(layout, 'blobs/sha256'));
  execFileSync('tar', ['-cf', `${layout}.tar`, '-C', layout, '.']);
}, 60_000);

async function game(base: string): Promise<string> {
  const dir = await tempDir('gl-local-once-game-');
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) {
    execFileSync('mkdir', ['-p', path.join(dir, t)]);
    await writeFile(path.join(dir, t, 'hello.txt'), `${t}\n`);
  }
  const trees = ['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ./${t}${t === 'app' ? ', mount: /srv/steam/game' : ''}}`);
  await writeFile(path.join(dir, 'gamelayer.yaml'), ['game: local-once', 'version: 1.0.0', `baseImage: ${base}`, 'start: ["/bin/sh", "-c", "sleep 1"]', 'trees:', ...trees, ''].join('\n'));
  return dir;
}

describe('a local base is read once for its copy and the folders at the mounts', () => {
  for (const kind of ['oci', 'oci-archive'] as const) {
    it(`${kind}: the stored blobs are never opened, and the folders are found all the same`, async () => {
      const dir = await game(kind === 'oci' ? `oci:${layout}:busybox` : `oci-archive:${layout}.tar:busybox`);
      const trace = path.join(dir, 'openat.txt');
      // libuv's io_uring would open files out of strace's sight: the plain system calls are what is counted.
      const r = await runCli(['build', '--tag', 'v1'], { cwd: dir, env: { UV_USE_IO_URING: '0' }, prefix: ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', trace] });
      expect(r.code, r.stderr).toBe(0);
      const opens = (await readFile(trace, 'utf8')).split('\n');
      const stored = blobs.map((b) => path.join(dir, '.gamelayer/oci/blobs/sha256', b));
      // Before stop 45, each layer blob was opened once more here (and decompressed again) for the folders.
      expect(opens.filter((l) => stored.some((b) => l.includes(`"${b}"`)) && !l.includes('ENOENT'))).toEqual([]);
      if (kind === 'oci') {
        // The layout's layer blobs: each opened once, by the copy.
        const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')) as { parents?: Record<string, Record<string, unknown>>; layers: unknown[] };
        const manifestLayers = (JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${layout}:busybox`], { encoding: 'utf8' })) as { layers: { digest: string }[] }).layers;
        for (const l of manifestLayers) expect(opens.filter((o) => o.includes(`"${path.join(layout, 'blobs/sha256', l.digest.slice(7))}"`)), l.digest).toHaveLength(1);
        expect(Object.values(record.parents ?? {})[0]?.app).toEqual([{ path: 'srv/steam', uid: 1000, gid: 1000, mode: 0o750 }]);
      } else {
        const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')) as { parents?: Record<string, Record<string, unknown>> };
        expect(Object.values(record.parents ?? {})[0]?.app).toEqual([{ path: 'srv/steam', uid: 1000, gid: 1000, mode: 0o750 }]);
      }
      expect((await readdir(path.join(dir, '.gamelayer/cache/verified-blobs'))).filter((n) => n.startsWith('parents-'))).toHaveLength(1);
    });
  }
});
