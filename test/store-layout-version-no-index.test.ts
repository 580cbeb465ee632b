// A store whose `oci-layout` says another version (2.0.0) and that holds no index.json: build refuses it, but `ls`
// said "no images yet" and `gc` "removed 0", as for a new store. Both now say the layout version is not supported.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('ls and gc on a store of another layout version without an index', () => {
  it('say the layout version is not supported, as build does', async () => {
    const dir = await tempDir('gl-layout-v2-');
    copySample(dir);
    const store = path.join(dir, '.gamelayer', 'oci');
    await mkdir(store, { recursive: true });
    await writeFile(path.join(store, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const build = await runCli(['build', '--tag', 't'], { cwd: dir });
    expect(build.stderr).toMatch(/error\[store\.layout-version\]/);
    for (const args of [['ls'], ['gc'], ['gc', '--apply']]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stdout}`).toBe(1);
      expect(r.stderr).toMatch(/error\[store\.layout-version\]: .*\.gamelayer\/oci: unsupported image layout version in oci-layout/);
    }
  }, 120_000);
});
