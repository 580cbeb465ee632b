// prune --tag: a studio rolls back to an older build (its deployed spec pins it by digest) and keeps pruning every
// day; the rollback target must stay pullable however old it is, named by tag or by the digest the spec pins. A name
// that matches no build is refused before anything is deleted (a typo must not let the deployed build go).
import { execFileSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

describe('gamelayer prune --tag keeps deployed builds', () => {
  it('keeps the build a deployed spec pins by digest, and the one named by tag; refuses an unknown name', async () => {
    const repo = `${registry.host}/studio/rollback`;
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
    let pinned = '';
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      await writeFile(path.join(dir, `app-media/levels/${v}.dat`), Buffer.alloc(4000, v.charCodeAt(1)));
      const b = await runCli(['build', '--tag', v, '--push', repo], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
      if (v === 'v1') {
        // The spec deployed for v1 (the rollback target): the server image pinned by digest.
        const k = await runCli(['k8s', '--kind', 'deployment', '--out', path.join(dir, 'deployed')], { cwd: dir });
        expect(k.code, k.stderr).toBe(0);
        const spec = await readFile(path.join(dir, 'deployed', 'deployment-server-image.yaml'), 'utf8');
        pinned = /^\s+image: (\S+@sha256:[a-f0-9]{64})$/m.exec(spec)![1]!;
      }
    }
    const before = await storedTags(registry.storageDir, 'studio/rollback');

    const typo = await runCli(['prune', repo, '--keep', '1', '--tag', 'v9', '--apply'], { cwd: dir });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(`error[record.no-build]: prune --tag v9: no build in ${repo} has that tag`);
    expect(typo.stderr).toContain('hint: builds there: v4, v3, v2, v1');
    expect(await storedTags(registry.storageDir, 'studio/rollback')).toEqual(before);

    const r = await runCli(['prune', repo, '--keep', '1', '--tag', pinned, '--tag', 'v3', '--apply', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.kept.map((b: { tag: string }) => b.tag)).toEqual(['v4', 'v3', 'v1']);
    expect(out.removed.map((b: { tag: string }) => b.tag)).toEqual(['v2']);
    // The deployed spec's image is still there for a node to pull, and v3 is whole; v2 is gone.
    execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${pinned}`]);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${repo}:v3`]);
    expect(() => execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${repo}:v2`], { stdio: 'pipe' })).toThrow();
  }, 240_000);
});
