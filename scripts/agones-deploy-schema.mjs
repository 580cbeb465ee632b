// Writes src/config/agones-deploy-schema.json: the parts of the Agones CRDs (test/schemas/agones-crds.yaml) that
// check gamelayer.yaml's deploy section, titles and descriptions left out. test/config-deploy.test.ts keeps the
// two in sync. Run: node scripts/agones-deploy-schema.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export function deploySchemas(crdText) {
  const crds = new Map();
  for (const doc of parseAllDocuments(crdText)) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    crds.set(crd.spec.names.kind, crd.spec.versions.find((v) => v.name === 'v1').schema.openAPIV3Schema);
  }
  const gs = crds.get('GameServer').properties.spec.properties;
  const pod = gs.template.properties.spec.properties;
  const container = pod.containers.items.properties;
  const fleet = crds.get('Fleet').properties.spec.properties;
  return strip({
    gameServerPort: gs.ports.items,
    health: gs.health,
    scheduling: fleet.scheduling,
    nodeSelector: pod.nodeSelector,
    tolerations: pod.tolerations,
    affinity: pod.affinity,
    priorityClassName: pod.priorityClassName,
    serviceAccountName: pod.serviceAccountName,
    terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
    env: container.env,
    resources: container.resources,
  });
}

function strip(v) {
  if (Array.isArray(v)) return v.map(strip);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'title' && k !== 'description').map(([k, x]) => [k, strip(x)]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = readFileSync(new URL('../test/schemas/agones-crds.yaml', import.meta.url), 'utf8');
  writeFileSync(new URL('../src/config/agones-deploy-schema.json', import.meta.url), `${JSON.stringify(deploySchemas(text), null, 1)}\n`);
}
