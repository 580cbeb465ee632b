// Docker's config.json was read whole with no bound (found in stop 42's trial): one pointing at /dev/zero was read
// to hundreds of MiB before "Invalid string length", a FIFO would block every push. It is now read as a regular file
// of at most 4 MiB, and anything else is a registry.credentials error naming the file.
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let locked: TestRegistry;
let game: string;
beforeAll(async () => {
  locked = await startRegistry({ auth: 'basic' });
  game = path.join(await tempDir('gl-docker-config-'), 'game');
  copySample(game);
}, 60_000);
afterAll(async () => locked?.stop());

describe("docker's config.json", () => {
  it('a device or an oversized file is refused naming the file; nothing is pushed', async () => {
    const zero = await tempDir('gl-docker-config-zero-');
    await symlink('/dev/zero', path.join(zero, 'config.json'));
    const big = await tempDir('gl-docker-config-big-');
    // Valid JSON (whitespace around an empty object), but no docker config.json is 5 MiB.
    await writeFile(path.join(big, 'config.json'), `{}${' '.repeat(5 << 20)}`);
    for (const [dockerConfig, says] of [
      [zero, 'a character device, not a regular file'],
      [big, `${5 * 1024 * 1024 + 2} bytes; a docker config.json is a few KiB`],
    ] as const) {
      const r = await runCli(['build', '--push', `${locked.host}/studio/cfg`, '--tag', 'v1'], { cwd: game, env: { HOME: dockerConfig, DOCKER_CONFIG: dockerConfig } });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`error[registry.credentials]: ${path.join(dockerConfig, 'config.json')}: `);
      expect(r.stderr).toContain(says);
    }
  }, 120_000);
});
