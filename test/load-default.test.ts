// `gamelayer load` without --tag loads the last build, not the config's version (which may name an older build).
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { defaultLoadTag } from '../src/docker/load.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('gamelayer load picks the last build', () => {
  it('after build --tag v1 and build --tag v2 (the config says version 1.0.0), load means v2', async () => {
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    expect(await defaultLoadTag(config)).toBe('1.0.0'); // no build yet: the version
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['build', '--tag', 'v2'], { cwd: dir })).code).toBe(0);
    expect(await defaultLoadTag(config)).toBe('v2');
    // With no daemon, the run gets as far as the daemon: the tag it looked for exists (v2; 1.0.0 was never built).
    const r = await runCli(['load', '--json'], { cwd: dir, env: { DOCKER_HOST: 'unix:///tmp/gl-no-docker.sock' } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('docker.unreachable');
  });
});
