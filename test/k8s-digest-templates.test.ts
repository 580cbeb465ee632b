// Identical content built under two tags: the pod templates of every workload kind are byte-identical (digest-only
// image references; labels and annotations that change with the tag or version stay on the workload's own
// metadata), so applying the new tag rolls no Deployment or Fleet. Real builds of the sample game.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { deployInputFrom, readBuildRecord } from '../src/k8s/input.js';
import { k8sYaml } from '../src/k8s/output.js';
import { VOLUME_MODES, WORKLOAD_KINDS } from '../src/k8s/options.js';
import { k8sWorkload } from '../src/k8s/workloads.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/sample-game';

/** The pod template of a workload's YAML text, as YAML text again (a Pod has none: its spec). */
function templateText(yamlText: string): string {
  const o = parse(yamlText) as { kind: string; spec: { template: { spec: { template: unknown } } } };
  const t = o.kind === 'Fleet' ? o.spec.template.spec.template : o.kind === 'Pod' ? { spec: o.spec } : o.spec.template;
  return stringify(t);
}

describe('digest-only pod templates', () => {
  it('the same content under tags v1 and v2: identical templates for every kind and volume mode; the workload metadata names the tag', async () => {
    const dir = await tempDir('gl-digest-templates-');
    copySample(dir);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const a = await build({ config, tag: 'v1' });
    const b = await build({ config, tag: 'v2' });
    const inputA = deployInputFrom(config, await readBuildRecord(a.recordFile), REPO, a.recordFile);
    const inputB = deployInputFrom(config, await readBuildRecord(b.recordFile), REPO, b.recordFile);
    expect(inputA.tag).toBe('v1');
    expect(inputB.tag).toBe('v2');
    for (const kind of WORKLOAD_KINDS) {
      for (const volumes of VOLUME_MODES) {
        const yamlA = k8sYaml(inputA, k8sWorkload(inputA, { kind, volumes }));
        const yamlB = k8sYaml(inputB, k8sWorkload(inputB, { kind, volumes }));
        expect(yamlA).not.toBe(yamlB);
        const top = (y: string) => (parse(y) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['gamelayer.dev/tag'];
        expect([top(yamlA), top(yamlB)]).toEqual(['v1', 'v2']);
        if (kind === 'pod') continue; // a bare Pod has no template to roll
        const tA = templateText(yamlA);
        expect(tA).toBe(templateText(yamlB));
        expect(tA).not.toMatch(/v1|v2/);
        expect(tA).toMatch(new RegExp(`image: ${REPO.replaceAll('.', '\\.')}@sha256:[a-f0-9]{64}`));
      }
    }
    // The tagged style keeps the tag in the references, and so differs.
    const tagged = (i: typeof inputA) => templateText(k8sYaml(i, k8sWorkload(i, { kind: 'fleet', refs: 'tag' })));
    expect(tagged(inputA)).not.toBe(tagged(inputB));
  });
});
