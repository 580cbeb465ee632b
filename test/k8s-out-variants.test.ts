// `k8s --out DIR` after the volume mode changed (chunking turned on, deploy.volumes edited): the earlier mode's file
// (fleet-server-image.yaml) stayed beside the new one (fleet.yaml), both the same Fleet, and `kubectl apply -f DIR`
// applies them in name order, so the stale one, with the older images, won. Now the earlier file is removed when
// gamelayer wrote it and it defines the same object; a file of the user's, or one of another name, stays.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('k8s --out after the volume mode changed', () => {
  it('removes the earlier mode\'s file of the same object, and only that', async () => {
    const dir = await tempDir('gl-k8s-variants-');
    await writeTinyGame(dir, ['game: variants', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    const k8s = (...args: string[]) => runCli(['k8s', '--kind', 'fleet', '--local', '--repository', '127.0.0.1:5000/variants', '--out', 'deploy', ...args], { cwd: dir });
    const out = (f: string) => path.join(dir, 'deploy', f);

    expect((await k8s('--volumes', 'none')).code).toBe(0);
    expect((await k8s('--volumes', 'none', '--name', 'canary', '--force')).code).toBe(0); // fleet-server-image.yaml is now canary's
    expect((await k8s('--volumes', 'none', '--force')).code).toBe(0); // and variants' again
    // The user's own file of the image-volume mode, the same Fleet: not ours, left alone.
    const own = 'apiVersion: agones.dev/v1\nkind: Fleet\nmetadata:\n  name: variants\n';
    await writeFile(out('fleet-image-volumes.yaml'), own);

    const r = await k8s('--volumes', 'init');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`removed ${out('fleet-server-image.yaml')}: it defined the same Fleet variants (--volumes none), and kubectl apply -f deploy would apply both`);
    expect(existsSync(out('fleet.yaml'))).toBe(true);
    expect(existsSync(out('fleet-server-image.yaml'))).toBe(false);
    expect(await readFile(out('fleet-image-volumes.yaml'), 'utf8')).toBe(own);

    // Another name in the earlier mode's file: another object, kept.
    expect((await k8s('--volumes', 'none', '--name', 'canary')).code).toBe(0);
    const again = await k8s('--volumes', 'init');
    expect(again.stderr).not.toContain('removed');
    expect(existsSync(out('fleet-server-image.yaml'))).toBe(true);
  });

  // Two fleets into one folder (--name eu, then --name us): both are fleet.yaml, and the second replaced the first
  // without a word, so `kubectl apply -f deploy` left Fleet eu on its old images. Now it is refused unless --force.
  it('refuses to write one object over the spec of another it wrote, unless --force', async () => {
    const dir = await tempDir('gl-k8s-other-object-');
    await writeTinyGame(dir, ['game: fleets', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    const k8s = (...args: string[]) => runCli(['k8s', '--kind', 'fleet', '--local', '--repository', '127.0.0.1:5000/fleets', '--out', 'deploy', ...args], { cwd: dir });
    const file = path.join(dir, 'deploy', 'fleet-server-image.yaml');

    expect((await k8s('--name', 'eu')).code).toBe(0);
    const eu = await readFile(file, 'utf8');
    expect((await k8s('--name', 'eu')).code).toBe(0); // the same object again: replaced, as every day
    const us = await k8s('--name', 'us', '--namespace', 'games');
    expect(us.code).toBe(2);
    expect(us.stderr).toContain(`error[cli.out-exists]: ${file}: defines Fleet eu, and this spec is Fleet us in namespace games; writing it there would drop that spec`);
    expect(us.stderr).toContain('hint: give each object its own folder (--out DIR/<name>), or pass --force to replace it');
    expect(await readFile(file, 'utf8')).toBe(eu);

    expect((await k8s('--name', 'us', '--namespace', 'games', '--force')).code).toBe(0);
    expect(await readFile(file, 'utf8')).toContain('name: us');
  });
});
