// prune --tag: a studio rolls back to an older build (its deployed spec pins it by digest) and keeps pruning every
// day; the rollback target must stay pullable however old it is, named by tag or by the digest the spec pins. A name
// that matches no build is refused before anything is deleted (a typo must not let the deployed build go).
import { execFileSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storedTags } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

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
        // The same build deployed with init containers: tree images pinned, tree digests in the copy scripts.
        const init = await runCli(['k8s', '--kind', 'deployment', '--volumes', 'init'], { cwd: dir });
        expect(init.code, init.stderr).toBe(0);
        await writeFile(path.join(dir, 'deployed', 'init.yaml'), init.stdout);
        // And through kustomize (GitOps): the images block as the overlay's Component.
        const kustomize = await runCli(['k8s', '--kustomize-images', '--out', path.join(dir, 'overlay-images')], { cwd: dir });
        expect(kustomize.code, kustomize.stderr).toBe(0);
      }
    }
    const before = await storedTags(registry.storageDir, 'studio/rollback');

    const typo = await runCli(['prune', repo, '--keep', '1', '--tag', 'v9', '--apply'], { cwd: dir });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(`error[record.no-build]: prune --tag v9: no build in ${repo} has that tag`);
    expect(typo.stderr).toContain('hint: builds there: v4, v3, v2, v1');
    expect(await storedTags(registry.storageDir, 'studio/rollback')).toEqual(before);

    // --keep-deployed reads the spec: its images of this repository, whatever else it pins.
    const bySpec = await runCli(['prune', repo, '--keep', '1', '--keep-deployed', path.join(dir, 'deployed', 'init.yaml'), '--json'], { cwd: dir });
    expect(bySpec.code, bySpec.stderr).toBe(0);
    expect(JSON.parse(bySpec.stdout).kept.map((b: { tag: string }) => b.tag)).toEqual(['v4', 'v1']);
    // The folder k8s --out wrote, as kubectl apply -f takes it (a Service of your own beside the specs): it was
    // refused, "cannot read it (EISDIR)". A folder whose files pin nothing is refused as a file would be.
    await writeFile(path.join(dir, 'deployed', 'service.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: game}\n');
    const byFolder = await runCli(['prune', repo, '--keep', '1', '--keep-deployed', path.join(dir, 'deployed'), '--json'], { cwd: dir });
    expect(byFolder.stderr).not.toContain('EISDIR');
    expect(byFolder.code, byFolder.stderr).toBe(0);
    expect(JSON.parse(byFolder.stdout).kept.map((b: { tag: string }) => b.tag)).toEqual(['v4', 'v1']);
    // The kustomize Component pins by newName + digest, no REPO@sha256: it kept nothing and was refused.
    const byComponent = await runCli(['prune', repo, '--keep', '1', '--keep-deployed', path.join(dir, 'overlay-images', 'kustomization.yaml'), '--json'], { cwd: dir });
    expect(byComponent.stderr).not.toContain('pins no image');
    expect(byComponent.code, byComponent.stderr).toBe(0);
    expect(JSON.parse(byComponent.stdout).kept.map((b: { tag: string }) => b.tag)).toEqual(['v4', 'v1']);
    const emptyFolder = path.join(dir, 'not-deployed');
    await cp(path.join(dir, 'deployed', 'service.yaml'), path.join(emptyFolder, 'service.yaml'));
    const none = await runCli(['prune', repo, '--keep', '1', '--keep-deployed', emptyFolder, '--apply'], { cwd: dir });
    expect(none.stderr).toContain(`error[record.no-build]: prune --keep-deployed ${emptyFolder}: no spec in this folder pins an image of ${repo} by digest, so it would keep nothing`);
    expect(none.code).toBe(1);
    await writeFile(path.join(dir, 'other.yaml'), 'image: 127.0.0.1:1/other/game@sha256:' + 'a'.repeat(64) + '\n');
    const other = await runCli(['prune', repo, '--keep', '1', '--keep-deployed', path.join(dir, 'other.yaml'), '--apply'], { cwd: dir });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`error[record.no-build]: prune --keep-deployed ${path.join(dir, 'other.yaml')}: pins no image of ${repo} by digest, so it would keep nothing`);
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
    // A hotfix branch cut from the pruned build: the error says where to look.
    const from = await runCli(['build', '--push', repo, '--from', `${repo}:v2`, '--line', 'hotfix'], { cwd: dir });
    expect(from.code).toBe(1);
    expect(from.stderr).toContain(`error[record.no-image]: ${repo}:v2: no such image in ${repo}\nhint: check the tag; gamelayer ls ${repo} lists the builds there (prune may have removed an old one)\n`);
  }, 240_000);

  it('--idle-lines retires a branch built once: its line tag and its build go; the active line stays', async () => {
    const repo = `${registry.host}/studio/lines`;
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
    const build = async (tag: string, line: string) => {
      await writeFile(path.join(dir, `app-media/levels/${tag}.dat`), Buffer.alloc(4000, tag.charCodeAt(1)));
      const b = await runCli(['build', '--tag', tag, '--push', repo, '--line', line], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
    };
    await build('f1', 'feature-x'); // a feature branch built once, weeks ago
    await build('m1', 'main');
    await build('m2', 'main');
    const plan = async (args: string[]) => JSON.parse((await runCli(['prune', repo, '--keep', '1', '--json', ...args], { cwd: dir })).stdout);
    // Without it, the feature branch's build is kept forever: its line's newest.
    expect((await plan([])).kept.map((b: { tag: string }) => b.tag)).toEqual(['m2', 'f1']);
    // Idle more than ~9 ms before the newest build (the feature line's head is older by whole builds): retired.
    const r = await runCli(['prune', repo, '--keep', '1', '--idle-lines', '0.0000001', '--apply'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("retired 1 idle line: feature-x (the next build of each plans on another line's newest build, as a line's first build does; --from chooses another)");
    expect(r.stdout).toContain('deleted 2 builds: m1, f1');
    const tags = Object.keys(await storedTags(registry.storageDir, 'studio/lines'));
    expect(tags).toContain('gamelayer-line.main');
    expect(tags).not.toContain('gamelayer-line.feature-x');
    expect(tags).not.toContain('f1.gamelayer-record');
    // The main line still plans on its own record.
    const next = await runCli(['build', '--tag', 'm3', '--push', repo, '--line', 'main'], { cwd: dir });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain(`previous build: ${repo}:gamelayer-line.main (line main)`);
    // The retired line's next build plans on the newest build of another line, as the prune said (not afresh).
    const back = await runCli(['build', '--tag', 'f2', '--push', repo, '--line', 'feature-x'], { cwd: dir });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`previous build: ${repo}:gamelayer-line.main (line main's newest: line feature-x has none yet)`);
  }, 240_000);
});
