// A tree whose source folder is empty: its copy's emptyDir got `sizeLimit: 0Mi`, which reads as "empty" but is no
// limit at all to the kubelet (it enforces a sizeLimit above 0 only), and the copy writes its sentinel there anyway.
// Real CLI on a copy of the sample game; the pod checked against Kubernetes' OpenAPI schema (kubernetes-models).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Pod } from 'kubernetes-models/v1/Pod';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const BIN = path.resolve('bin/gamelayer.js');

describe('k8s of a build with an empty tree (real CLI)', () => {
  it('gives the empty tree\'s copy volume a sizeLimit of 1Mi, never 0Mi', async () => {
    const dir = await tempDir('gl-k8s-empty-tree-');
    copySample(dir);
    const media = path.join(dir, 'app-media');
    for (const n of readdirSync(media)) rmSync(path.join(media, n), { recursive: true });
    const cli = (args: string[]) => spawnSync(process.execPath, [BIN, '-c', path.join(dir, 'gamelayer.yaml'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
    const build = cli(['build', '-t', 'v1']);
    expect(build.stderr).not.toContain('error');
    expect(build.status).toBe(0);
    const r = cli(['k8s', '--local', '--repository', 'localhost:5000/game', '--volumes', 'init']);
    expect(r.stderr).not.toContain('error');
    expect(r.status).toBe(0);
    const pod = parse(r.stdout) as { spec: { volumes: { name: string; emptyDir?: { sizeLimit?: string } }[] } };
    const limits = Object.fromEntries(pod.spec.volumes.map((v) => [v.name, v.emptyDir?.sizeLimit]));
    expect(limits['tree-app-media']).toBe('1Mi');
    for (const l of Object.values(limits)) expect(l).toMatch(/^[1-9]\d*Mi$/);
    new Pod(pod as ConstructorParameters<typeof Pod>[0]).validate();
  });
});
