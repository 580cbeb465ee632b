// `gamelayer push 1.4.2 --also-tag latest` (the example in `push --help`) of a local build sent the server image alone,
// under both tags: no tree image, no build record, and nothing in the local record, so `gamelayer k8s` refused the
// build as never pushed and a fresh host found no build to plan on. The build now goes up whole, then its server
// image takes the further tags; the one-image form stays `--image`.
import { storedTags } from './support/registry.js';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();

describe('push of a build with --also-tag', () => {
  it('pushes the whole build and its record, then tags its server image', async () => {
    const dir = await tempDir('gl-push-also-');
    await writeGame(dir);
    const built = await runCli(['build', '--tag', '1.4.2'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const repo = `${registry.host}/studio/also`;
    const r = await runCli(['push', `${repo}:1.4.2`, '--also-tag', 'latest', '--also-tag', 'stable'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);

    const tags = await storedTags(registry.storageDir, 'studio/also');
    expect(Object.keys(tags)).toEqual(
      expect.arrayContaining(['1.4.2', '1.4.2-engine', '1.4.2-engine-media', '1.4.2-app', '1.4.2-app-media', '1.4.2.gamelayer-record', 'latest', 'stable']),
    );
    expect(tags['latest']).toBe(tags['1.4.2']);
    expect(tags['stable']).toBe(tags['1.4.2']);
    expect(r.stdout).toContain(`also tagged latest, stable: ${repo}@${tags['1.4.2']} (the server image)`);

    // The local record says where the build went: the deploy commands take it.
    const k8s = await runCli(['k8s', '--repository', repo], { cwd: dir });
    expect(k8s.code, k8s.stderr).toBe(0);
    expect(k8s.stdout).toContain(`${repo}@`);

    // One image from the store is still --image.
    const one = await runCli(['push', `${repo}:solo`, '--image', '1.4.2'], { cwd: dir });
    expect(one.code, one.stderr).toBe(0);
    const after = await storedTags(registry.storageDir, 'studio/also');
    expect(after['solo']).toBe(tags['1.4.2']);
    expect(Object.keys(after).filter((t) => t.startsWith('solo-'))).toEqual([]);
  });
});
