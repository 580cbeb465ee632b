// gamelayer k8s --fill and --kustomize-images: the operator's own manifests with the build's digest-pinned image
// references, every other byte as it was; and a kustomization images: block that real kustomize (kubectl
// kustomize) applies to a Deployment and an Agones Fleet.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { GamelayerError } from '../src/errors.js';
import { fillManifests, kustomizeImages } from '../src/k8s/fill.js';
import { withFillMark } from '../src/k8s/fill-mark.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { REPOSITORY, fixtureConfig, fixtureRecord, sha, writeFixtureGame } from './k8s-fixture.js';

const input = () => deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
const SERVER = `${REPOSITORY}@${sha('server-image')}`;
const tree = (t: string) => `${REPOSITORY}@${sha(`${t}-image`)}`;

const DEPLOYMENT = `# our game servers, hand-written
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-game   # keep this name
  labels: {app: my-game}
spec:
  replicas: 2
  selector:
    matchLabels: {app: my-game}
  template:
    metadata:
      labels: {app: my-game}
    spec:
      initContainers:
        - name: copy-app-media
          image: 'gamelayer://app-media'
          command: ["sh", "-c", "cp -R /opt/local/app-media/. /mnt/app-media/"]
      containers:
        - name: engine
          image: "gamelayer://server"    # filled by gamelayer
          ports: [{containerPort: 7777, protocol: UDP}]
        - name: metrics
          image: prom/statsd-exporter:v0.26.0
        - name: old-pin
          image: ${REPOSITORY}:1.3.0-app@sha256:${'0'.repeat(64)}
      volumes:
        - name: engine-media
          image:
            reference: ${REPOSITORY}:1.3.0-engine-media
            pullPolicy: IfNotPresent
`;

const HELM = `---
# Source: game/templates/fleet.yaml
apiVersion: "agones.dev/v1"
kind: Fleet
metadata:
  name: "my-game"
spec:
  replicas: 3
  template:
    spec:
      ports:
      - name: default
        containerPort: 7777
      template:
        spec:
          containers:
          - name: engine
            image: ${REPOSITORY}:1.3.0
            env:
            - name: MEDIA_IMAGE
              value: gamelayer://engine-media
---
# Source: game/templates/empty.yaml
---
# Source: game/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: other
spec:
  selector: {app: other}
  ports: [{port: 80}]
`;

describe('fillManifests', () => {
  it('a Deployment: placeholders and references to the repository replaced, quoting kept, every other byte unchanged', () => {
    const r = fillManifests(DEPLOYMENT, 'deployment.yaml', input());
    const expected = DEPLOYMENT.replace("'gamelayer://app-media'", `'${tree('app-media')}'`)
      .replace('"gamelayer://server"', `"${SERVER}"`)
      .replace(`${REPOSITORY}:1.3.0-app@sha256:${'0'.repeat(64)}`, tree('app'))
      .replace(`${REPOSITORY}:1.3.0-engine-media`, tree('engine-media'));
    expect(r.text).toBe(expected);
    expect(r.replacements.map((x) => [x.line, x.col, x.image])).toEqual([
      [17, 18, 'app-media'],
      [21, 18, 'server'],
      [26, 18, 'app'],
      [30, 24, 'engine-media'],
    ]);
    // Unrelated images are left alone.
    expect(r.text).toContain('image: prom/statsd-exporter:v0.26.0\n');
  });

  it('Helm-rendered multi-document output with a Fleet: only the game images change', () => {
    const r = fillManifests(HELM, '(stdin)', input());
    expect(r.text).toBe(HELM.replace(`image: ${REPOSITORY}:1.3.0\n`, `image: ${SERVER}\n`).replace('value: gamelayer://engine-media', `value: ${tree('engine-media')}`));
    expect(parseAllDocuments(r.text).length).toBe(3);
    // --refs tag writes the tagged form.
    expect(fillManifests(HELM, 'x', input(), 'tag').text).toContain(`image: ${REPOSITORY}:v1@${sha('server-image')}\n`);
  });

  it('an unknown placeholder and broken YAML: errors at line and column; nothing to replace leaves the text as it is', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as GamelayerError;
      }
      throw new Error('no error');
    };
    const e1 = err(() => fillManifests('a: 1\nb:\n  image: gamelayer://assets\n', 'f.yaml', input()));
    expect([e1.code, e1.message]).toEqual(['fill.unknown-image', 'f.yaml:3:10: gamelayer://assets: the build has no image "assets"']);
    expect(e1.hint).toContain('gamelayer://server, gamelayer://engine, gamelayer://engine-media, gamelayer://app, gamelayer://app-media');
    const e2 = err(() => fillManifests('a: [1\n', 'g.yaml', input()));
    expect(e2.code).toBe('fill.yaml');
    expect(e2.message).toMatch(/^g\.yaml:\d+:\d+: invalid YAML: /);
    const plain = 'kind: ConfigMap\ndata: {image: nginx}\n';
    expect(fillManifests(plain, 'h.yaml', input())).toEqual({ text: plain, replacements: [] });
  });
});

describe('gamelayer k8s --fill / --kustomize-images (real CLI) and kubectl kustomize', () => {
  const BIN = fileURLToPath(new URL('../bin/gamelayer.js', import.meta.url));
  let dir: string;
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gl-k8s-fill-'));
    writeFixtureGame(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--fill FILE… --out DIR writes each file filled; --in-place rewrites it; a bad file stops before any write', () => {
    writeFileSync(path.join(dir, 'deployment.yaml'), DEPLOYMENT);
    writeFileSync(path.join(dir, 'helm.yaml'), HELM);
    const r = cli('k8s', '--fill', 'deployment.yaml', 'helm.yaml', '--out', 'filled');
    expect(r.stderr).toContain(`deployment.yaml:21:18: gamelayer://server -> ${SERVER}`);
    expect(r.status).toBe(0);
    // --out writes the filled text under the header that marks it a fill's output (test/k8s-fill-out-foreign.test.ts).
    expect(readFileSync(path.join(dir, 'filled/deployment.yaml'), 'utf8')).toBe(withFillMark(fillManifests(DEPLOYMENT, 'deployment.yaml', input()).text, 'deployment.yaml', input()));
    expect(readFileSync(path.join(dir, 'filled/helm.yaml'), 'utf8')).toBe(withFillMark(fillManifests(HELM, 'helm.yaml', input()).text, 'helm.yaml', input()));

    writeFileSync(path.join(dir, 'bad.yaml'), 'image: gamelayer://nope\n');
    const bad = cli('k8s', '--fill', 'helm.yaml', 'bad.yaml', '--in-place');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('error[fill.unknown-image]: bad.yaml:1:8: gamelayer://nope: the build has no image "nope"');
    expect(readFileSync(path.join(dir, 'helm.yaml'), 'utf8')).toBe(HELM);

    const inPlace = cli('k8s', '--fill', 'helm.yaml', '--in-place');
    expect(inPlace.status).toBe(0);
    expect(readFileSync(path.join(dir, 'helm.yaml'), 'utf8')).toBe(fillManifests(HELM, 'helm.yaml', input()).text);
  });

  it('--fill --out DIR refuses to replace a spec k8s --out wrote there, and the input itself (that is --in-place)', () => {
    expect(cli('k8s', '--kind', 'fleet', '--out', 'specs').status).toBe(0);
    const spec = readFileSync(path.join(dir, 'specs/fleet-server-image.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'fleet-server-image.yaml'), HELM);
    const over = cli('k8s', '--fill', 'fleet-server-image.yaml', '--out', 'specs');
    expect(over.stderr).toContain(`error[cli.out-exists]: ${path.join(dir, 'specs/fleet-server-image.yaml')}: a spec gamelayer k8s wrote; the filled fleet-server-image.yaml would replace it`);
    expect(over.status).toBe(2);
    expect(readFileSync(path.join(dir, 'specs/fleet-server-image.yaml'), 'utf8')).toBe(spec);

    mkdirSync(path.join(dir, 'mine'), { recursive: true });
    writeFileSync(path.join(dir, 'mine/fleet.yaml'), HELM);
    const self = cli('k8s', '--fill', 'mine/fleet.yaml', '--out', 'mine');
    expect(self.stderr).toContain(`error[fill.usage]: --fill mine/fleet.yaml --out mine: the output ${path.join(dir, 'mine/fleet.yaml')} is the input itself`);
    expect(self.status).toBe(1);
    expect(readFileSync(path.join(dir, 'mine/fleet.yaml'), 'utf8')).toBe(HELM);
  });

  it('--kustomize-images: kubectl kustomize sets the digests in a Deployment and a Fleet of a kustomization', () => {
    const r = cli('k8s', '--kustomize-images');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(kustomizeImages(input()));
    const k = path.join(dir, 'kustomize');
    mkdirSync(k, { recursive: true });
    writeFileSync(
      path.join(k, 'deployment.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: g}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      initContainers: [{name: copy, image: gamelayer/app-media}]\n      containers: [{name: engine, image: gamelayer/engine}]\n',
    );
    writeFileSync(
      path.join(k, 'fleet.yaml'),
      'apiVersion: agones.dev/v1\nkind: Fleet\nmetadata: {name: g}\nspec:\n  replicas: 2\n  template:\n    spec:\n      ports: [{name: default, containerPort: 7777}]\n      template:\n        spec:\n          containers: [{name: engine, image: gamelayer/server}]\n',
    );
    writeFileSync(path.join(k, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml, fleet.yaml]\n${r.stdout}`);
    expect(existsSync('/usr/bin/kubectl')).toBe(true);
    const out = execFileSync('/usr/bin/kubectl', ['kustomize', k], { encoding: 'utf8' });
    const docs = parseAllDocuments(out).map((d) => d.toJS() as { kind: string; spec: Record<string, never> });
    const dep = docs.find((d) => d.kind === 'Deployment')! as unknown as { spec: { template: { spec: { initContainers: { image: string }[]; containers: { image: string }[] } } } };
    expect(dep.spec.template.spec.initContainers[0]!.image).toBe(tree('app-media'));
    expect(dep.spec.template.spec.containers[0]!.image).toBe(tree('engine'));
    const fleet = docs.find((d) => d.kind === 'Fleet')! as unknown as { spec: { template: { spec: { template: { spec: { containers: { image: string }[] } } } } } };
    expect(fleet.spec.template.spec.template.spec.containers[0]!.image).toBe(SERVER);
  });
});
