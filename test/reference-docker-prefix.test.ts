// skopeo users write `docker://host/repo`. gamelayer read "docker:" as a host and said "repository path components
// must be lower-case letters and digits …", pointing at nothing the user wrote wrong. It now names the prefix and
// gives the reference without it (ls, build --push).
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const env = { GAMELAYER_REGISTRY_RETRIES: '1', CI: '1' };

describe('a reference written with skopeo\'s docker:// prefix', () => {
  it('ls docker://host/repo names the prefix and the reference to write', async () => {
    const dir = await tempDir('gl-docker-prefix-');
    const r = await runCli(['ls', 'docker://127.0.0.1:9/studio/game'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[registry.reference]: invalid image reference "docker://127.0.0.1:9/studio/game": "docker://" is skopeo\'s transport prefix, not part of a reference: write 127.0.0.1:9/studio/game');
  });

  it('build --push docker://host/repo is refused the same way, before anything is built', async () => {
    const dir = await tempDir('gl-docker-prefix-');
    await writeTinyGame(dir, ['game: prefix', 'start: [/opt/local/engine/run]']);
    const r = await runCli(['build', '--push', 'docker://127.0.0.1:9/studio/game'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"docker://" is skopeo\'s transport prefix, not part of a reference: write 127.0.0.1:9/studio/game');
    expect(r.stdout).not.toContain('server image');
  });
});
