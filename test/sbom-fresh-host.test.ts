// `build --push --sbom` on a host with no local state (a fresh CodeBuild host): the build keeps the previous build's
// layers in the registry without downloading them, yet the SBOM lists every file with its sha256 read from the
// layer blobs. It failed with store.blob-missing (the kept layers are not in the store); they were then fetched from
// the repository pushed to (digest-checked), and since stop 46 a tree whose layers the host lacks is hashed from its
// sources (sbom-fresh-host-gets.test.ts counts the GETs).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => reg?.stop());

describe('build --push --sbom on a fresh host', () => {
  it('makes the SBOM of a build whose kept layers were never downloaded', async () => {
    const dir = await tempDir();
    const warm = path.join(dir, 'warm');
    const fresh = path.join(dir, 'fresh');
    copySample(warm);
    copySample(fresh);
    const repo = `${reg.host}/studio/sbom-fresh`;
    const first = await runCli(['build', '--tag', 'v1', '--push', repo, '--line', 'main'], { cwd: warm });
    expect(first.code).toBe(0);
    // The next day's change, on a host without .gamelayer/: only the app tree's patch is built.
    await appendFile(path.join(fresh, 'app/config/server.cfg'), 'motd=fresh\n');
    const second = await runCli(['build', '--tag', 'v2', '--push', repo, '--line', 'main', '--sbom', '--json'], { cwd: fresh });
    expect(second.stderr).not.toContain('error[');
    expect(second.code).toBe(0);
    const sbom = await runCli(['sbom', `${repo}:v2`], { cwd: fresh });
    expect(sbom.code).toBe(0);
    type Component = { name: string; hashes?: { alg: string; content: string }[]; components?: Component[] };
    const doc = JSON.parse(sbom.stdout) as { components: Component[] };
    const tree = (name: string) => doc.components.find((c) => c.name === name)?.components ?? [];
    const sha = (c: Component | undefined) => c?.hashes?.find((h) => h.alg === 'SHA-256')?.content;
    // Every file of a kept tree (engine-media: unchanged, its layer never downloaded by this host) is listed with the
    // sha256 of its bytes; so is the changed file.
    const media = tree('engine-media').filter((c) => c.name && sha(c));
    expect(media.length).toBeGreaterThan(0);
    for (const c of media) expect(sha(c)).toBe(sha256File(path.join(fresh, 'engine-media', c.name)));
    expect(sha(tree('app').find((c) => c.name === 'config/server.cfg'))).toBe(sha256File(path.join(fresh, 'app/config/server.cfg')));
  });
});
