// A release bumps `version:` in gamelayer.yaml. With the same content, the images must keep their digests, so the
// pod templates (pinned by digest) stay byte-identical and applying them rolls nothing (docs/deploy.md, "What
// runs"). The old code put the version into every image's config (org.opencontainers.image.version): all five
// digests changed, and every template with them. Real CLI builds; only the workload's own metadata names the version.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

type Workload = { metadata: { labels: Record<string, string> }; spec: { template: unknown } };

async function spec(dir: string, tag: string, kind: string, volumes: string): Promise<Workload> {
  const record = path.join(dir, '.gamelayer', 'records', `build-${tag}.json`);
  const r = await runCli(['k8s', '--kind', kind, '--volumes', volumes, '--local', '--repository', '127.0.0.1:5000/release', '--record', record], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return parse(r.stdout) as Workload;
}

describe('a new version of the same content', () => {
  it('keeps every image digest, and so every pod template', async () => {
    const dir = await tempDir('gl-version-templates-');
    await writeTinyGame(dir, ['game: release', 'version: 1.4.1', 'start: [/opt/local/engine/run]']);
    const first = await runCli(['build', '--json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const config = path.join(dir, 'gamelayer.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('version: 1.4.1', 'version: 1.4.2'));
    const second = await runCli(['build', '--json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);

    const images = async (tag: string) =>
      (JSON.parse(await readFile(path.join(dir, '.gamelayer', 'records', `build-${tag}.json`), 'utf8')) as { images: { name: string; digest: string }[] }).images
        .map((i) => `${i.name}=${i.digest}`)
        .sort();
    const before = await images('1.4.1');
    expect(before).toHaveLength(5);
    expect(await images('1.4.2')).toEqual(before);

    for (const [kind, volumes] of [['deployment', 'none'], ['fleet', 'init'], ['gameserver', 'image']] as const) {
      const a = await spec(dir, '1.4.1', kind, volumes);
      const b = await spec(dir, '1.4.2', kind, volumes);
      expect(JSON.stringify(b.spec.template), `${kind} --volumes ${volumes}`).toBe(JSON.stringify(a.spec.template));
      expect(a.metadata.labels['app.kubernetes.io/version']).toBe('1.4.1');
      expect(b.metadata.labels['app.kubernetes.io/version']).toBe('1.4.2');
    }
  });
});
