// Structure of the emitted workloads: order, mounts, sentinels, pinned digests, computed sizes, security, labels.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { deployInputFrom, type DeployInput } from '../src/k8s/input.js';
import { k8sYaml } from '../src/k8s/output.js';
import { WORKLOAD_KINDS, TREE_VOLUME_MODES as VOLUME_MODES, mergeK8sOptions, type K8sOptions, type WorkloadKind } from '../src/k8s/options.js';
import { k8sFileName, k8sWorkload, type Workload } from '../src/k8s/workloads.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { REPOSITORY, fixtureConfig, fixtureRecord, manifest, sha } from './k8s-fixture.js';

const NON_ENGINE: TreeName[] = ['engine-media', 'app', 'app-media'];
const MiB = 1024 * 1024;

function input(): DeployInput {
  return deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
}

function podSpecOf(obj: Workload): IPodSpec {
  switch (obj.kind) {
    case 'Pod':
      return obj.spec!;
    case 'Deployment':
      return obj.spec!.template.spec!;
    case 'GameServer':
      return obj.spec.template.spec;
    case 'Fleet':
      return obj.spec.template.spec.template.spec;
  }
}

/** Tagged references (`repo:v1-tree@digest`) unless a test asks for the default digest-only ones. */
function emit(options: Partial<K8sOptions>, i = input()) {
  const e = k8sWorkload(i, { refs: 'tag', ...options });
  return { ...e, spec: podSpecOf(e.object), engine: podSpecOf(e.object).containers[0]! };
}

function script(c: IContainer): string {
  expect(c.command!.slice(0, 2)).toEqual(['sh', '-c']);
  return c.command![2]!;
}

/** Expected disk size of a copy, worked out by hand: bytes + 4 KiB per entry, +10 %, whole MiB. */
function expectedMi(bytes: number, entries: number): number {
  return Math.ceil(((bytes + entries * 4096) * 1.1) / MiB);
}

describe('copy mode (init containers)', () => {
  for (const kind of WORKLOAD_KINDS) {
    it(`${kind}: one init container per non-engine tree, in order, each copying its own tree to its own volume`, () => {
      const { spec, engine } = emit({ kind, volumes: 'init' });
      const inits = spec.initContainers!;
      expect(inits.map((c) => c.name)).toEqual(['copy-engine-media', 'copy-app', 'copy-app-media']);
      inits.forEach((c, i) => {
        const tree = NON_ENGINE[i]!;
        expect(c.image).toBe(`${REPOSITORY}:v1-${tree}@${sha(`${tree}-image`)}`);
        expect(c.volumeMounts).toEqual([{ name: `tree-${tree}`, mountPath: `/mnt/${tree}` }]);
        const s = script(c);
        expect(s).toContain(`cp -R -P -f '/opt/local/${tree}/.' '/mnt/${tree}/'`);
        // The sentinel is removed first and written last.
        const lines = s.trim().split('\n');
        expect(lines[1]).toBe(`rm -f '/mnt/${tree}/.complete'`);
        // Written after the copy; between them the setuid/setgid bits the copy kept are cleared (busybox cp as root
        // keeps them), a sentinel the image itself held is removed, and the EXIT trap (which removes the sentinel of
        // a copy that stops early) is lifted.
        const cpAt = lines.findIndex((l) => l.startsWith('cp '));
        const doneAt = lines.findIndex((l) => l.startsWith(': > '));
        expect(doneAt).toBeGreaterThan(cpAt);
        expect(lines.slice(cpAt + 1, doneAt)).toEqual([
          `for e in '/mnt/${tree}/'* '/mnt/${tree}/'.[!.]* '/mnt/${tree}/'..?*; do`,
          '  if [ -L "$e" ] || [ ! -e "$e" ]; then continue; fi',
          `  chmod -R u-s,g-s "$e" || { echo "gamelayer: ${tree}: cannot clear setuid/setgid bits under "$e": is it this user's copy?" >&2; exit 1; }`,
          'done',
          `rm -f '/mnt/${tree}/.complete'`,
          'trap - EXIT',
        ]);
        expect(lines.find((l) => l.startsWith(': > '))).toBe(`: > '/mnt/${tree}/.complete'`);
      });
      expect(engine.name).toBe('engine');
      expect(engine.image).toBe(`${REPOSITORY}:v1-engine@${sha('engine-image')}`);
      expect(engine.volumeMounts).toEqual(NON_ENGINE.map((t) => ({ name: `tree-${t}`, mountPath: `/opt/local/${t}` })));
      expect(spec.volumes!.map((v) => v.name)).toEqual(NON_ENGINE.map((t) => `tree-${t}`));
    });
  }

  it('the engine checks every sentinel before it execs the start command', () => {
    const { engine } = emit({});
    const s = script(engine);
    for (const t of NON_ENGINE) expect(s).toContain(`if [ ! -f '/opt/local/${t}/.complete' ]; then`);
    expect(s.trim().split('\n').at(-1)).toBe('exec "$@"');
    expect(engine.command![3]).toBe('gamelayer-start');
    expect(engine.args).toEqual(['./bin/server', '-port', '7777']);
    expect(engine.workingDir).toBe('/opt/local/engine');
  });

  it('sizes come from the bytes and entries of each tree', () => {
    const { spec, engine } = emit({ scratchBytes: 512 * MiB });
    const limits = Object.fromEntries(spec.volumes!.map((v) => [v.name, v.emptyDir!.sizeLimit]));
    const em = expectedMi(57_000_000, 4);
    const app = expectedMi(2_000_300, 4);
    const am = expectedMi(1_020_000_001, 5);
    expect(limits).toEqual({ 'tree-engine-media': `${em}Mi`, 'tree-app': `${app}Mi`, 'tree-app-media': `${am}Mi` });
    expect(am).toBe(1071);
    expect(engine.resources!.requests!['ephemeral-storage']).toBe(`${em + app + am + 512}Mi`);
    expect(engine.resources!.limits!['ephemeral-storage']).toBe(`${em + app + am + 512}Mi`);
    // A bigger tree gives a bigger volume: nothing is a constant.
    const bigger = fixtureRecord();
    bigger.manifests = bigger.manifests.map((m) => (m.tree === 'app' ? manifest('app', [{ size: 5_000_000_000 }]) : m));
    const { spec: spec2 } = emit({}, deployInputFrom(fixtureConfig(), bigger, REPOSITORY));
    expect(spec2.volumes!.find((v) => v.name === 'tree-app')!.emptyDir!.sizeLimit).toBe(`${expectedMi(5_000_000_000, 3)}Mi`);
  });

  it('resource requests and limits follow the options', () => {
    const { spec, engine } = emit({
      engine: { cpu: '2', memory: '6Gi', cpuLimit: '4' },
      copy: { cpu: '100m', memory: '64Mi' },
    });
    expect(engine.resources!.requests).toMatchObject({ cpu: '2', memory: '6Gi' });
    expect(engine.resources!.limits).toMatchObject({ cpu: '4', memory: '6Gi' });
    for (const c of spec.initContainers!) expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } });
  });
});

describe('image volume mode', () => {
  it('mounts each non-engine tree image read-only at its mount path through subPath; no init containers', () => {
    const { spec, engine, requirements } = emit({ volumes: 'image', pullPolicy: 'IfNotPresent' });
    expect(spec.initContainers).toBeUndefined();
    expect(spec.volumes).toEqual(
      NON_ENGINE.map((t) => ({ name: `tree-${t}`, image: { reference: `${REPOSITORY}:v1-${t}@${sha(`${t}-image`)}`, pullPolicy: 'IfNotPresent' } })),
    );
    expect(engine.volumeMounts).toEqual(
      NON_ENGINE.map((t) => ({ name: `tree-${t}`, mountPath: `/opt/local/${t}`, subPath: `opt/local/${t}`, readOnly: true })),
    );
    const s = script(engine);
    for (const t of NON_ENGINE) expect(s).toContain(`if [ ! -f '/opt/local/${t}/.gamelayer-tree' ]; then`);
    expect(s).not.toContain('.complete');
    expect(requirements.join('\n')).toMatch(/1\.35/);
    expect(requirements.join('\n')).toMatch(/containerd >= 2\.1.*>= 2\.2 for subPath/);
    // Image volumes are not ephemeral storage: only the scratch space is requested.
    expect(engine.resources!.requests!['ephemeral-storage']).toBe('1024Mi');
  });

  it('a tree with executables is copied even in image mode (image volumes are noexec), with a note', () => {
    const record = fixtureRecord();
    record.manifests = record.manifests.map((m) => (m.tree === 'app' ? manifest('app', [{ size: 100, exec: true }, { size: 5 }]) : m));
    const { spec, engine, notes } = emit({ volumes: 'image' }, deployInputFrom(fixtureConfig(), record, REPOSITORY));
    expect(spec.initContainers!.map((c) => c.name)).toEqual(['copy-app']);
    expect(spec.volumes!.map((v) => (v.emptyDir ? `${v.name}:emptyDir` : `${v.name}:image`))).toEqual([
      'tree-engine-media:image',
      'tree-app:emptyDir',
      'tree-app-media:image',
    ]);
    const s = script(engine);
    expect(s).toContain("'/opt/local/app/.complete'");
    expect(s).toContain("'/opt/local/app-media/.gamelayer-tree'");
    expect(notes).toEqual([
      'tree app has 1 executable file(s) and image volumes are mounted noexec: it is copied by an init container instead',
    ]);
  });
});

describe('every kind', () => {
  for (const kind of WORKLOAD_KINDS) {
    for (const volumes of VOLUME_MODES) {
      it(`${kind}/${volumes}: every image is pinned by digest, pull policy Always by default, deterministic YAML`, () => {
        const e = k8sWorkload(input(), { kind, volumes, refs: 'tag' });
        const refs: string[] = [];
        const walk = (v: unknown, key = '') => {
          if (Array.isArray(v)) v.forEach((x) => walk(x));
          else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
          else if ((key === 'image' || key === 'reference') && typeof v === 'string') refs.push(v);
        };
        walk(e.object);
        expect(refs.length).toBe(volumes === 'init' ? 4 : 4);
        for (const r of refs) expect(r).toMatch(new RegExp(`^${REPOSITORY.replaceAll('.', '\\.')}:v1-[a-z-]+@sha256:[a-f0-9]{64}$`));
        const spec = podSpecOf(e.object);
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) expect(c.imagePullPolicy).toBe('Always');
        const a = k8sYaml(input(), e);
        const b = k8sYaml(input(), k8sWorkload(input(), { kind, volumes, refs: 'tag' }));
        expect(a).toBe(b);
        expect(a).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases
        expect(k8sFileName(e.options)).toBe(`${kind}${volumes === 'image' ? '-image-volumes' : ''}.yaml`);
      });
    }
  }

  it('secure defaults: non-root, no privilege escalation, capabilities dropped, read-only root for copies', () => {
    for (const kind of WORKLOAD_KINDS) {
      const { spec } = emit({ kind, volumes: 'init' });
      expect(spec.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of spec.initContainers!) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'] },
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
        });
      }
      expect(spec.containers[0]!.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
    const root = emit({ runAsUser: 0 }).spec;
    expect(root.securityContext!.runAsNonRoot).toBeUndefined();
    expect(root.initContainers![0]!.securityContext!.runAsNonRoot).toBeUndefined();
  });

  it('labels and annotations carry the game, version and tree digests', () => {
    const { object } = emit({ kind: 'deployment' });
    expect(object.metadata!.labels).toEqual({
      'app.kubernetes.io/name': 'my-game',
      'app.kubernetes.io/component': 'game-server',
      'app.kubernetes.io/version': '1.4.2',
      'app.kubernetes.io/part-of': 'my-game',
      'app.kubernetes.io/managed-by': 'gamelayer',
    });
    const ann = object.metadata!.annotations!;
    expect(ann['gamelayer.dev/version']).toBe('1.4.2');
    for (const t of TREE_NAMES) expect(ann[`gamelayer.dev/tree-${t}`]).toBe(sha(`${t}manifest`));
    const dep = object as Extract<Workload, { kind: 'Deployment' }>;
    // The selector must not change between versions, and must match the template.
    expect(dep.spec!.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'my-game', 'app.kubernetes.io/component': 'game-server' });
    expect(dep.spec!.template.metadata!.labels).toMatchObject(dep.spec!.selector.matchLabels!);
  });

  it('game port on the container for Pod/Deployment; Agones sets it from spec.ports', () => {
    const byKind = (kind: WorkloadKind) => emit({ kind, port: { containerPort: 27015, protocol: 'UDP' } });
    expect(byKind('pod').engine.ports).toEqual([{ name: 'game', containerPort: 27015, protocol: 'UDP' }]);
    expect(byKind('deployment').engine.ports).toEqual([{ name: 'game', containerPort: 27015, protocol: 'UDP' }]);
    expect(byKind('gameserver').engine.ports).toBeUndefined();
    const gs = byKind('gameserver').object as Extract<Workload, { kind: 'GameServer' }>;
    expect(gs.spec.ports).toEqual([{ name: 'default', portPolicy: 'Dynamic', containerPort: 27015, protocol: 'UDP' }]);
    expect(gs.spec.container).toBe('engine');
    expect(gs.spec.health).toEqual({ disabled: false, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 });
  });

  // Agones' webhook refuses a Passthrough port with a containerPort ("ContainerPort cannot be specified with
  // Passthrough PortPolicy"): `--port-policy Passthrough` wrote a GameServer and a Fleet the cluster rejected.
  it('a Passthrough port has no containerPort (Agones sets it to the host port); other policies keep theirs', () => {
    for (const kind of ['gameserver', 'fleet'] as const) {
      const { object } = emit({ kind, portPolicy: 'Passthrough', extraPorts: [{ name: 'query', containerPort: 27016, protocol: 'UDP', portPolicy: 'Dynamic' }, { name: 'rcon', containerPort: 27017, protocol: 'TCP' }] });
      const spec = object.kind === 'Fleet' ? object.spec.template.spec : (object as Extract<Workload, { kind: 'GameServer' }>).spec;
      expect(spec.ports).toEqual([
        { name: 'default', portPolicy: 'Passthrough', protocol: 'UDP' },
        { name: 'query', portPolicy: 'Dynamic', containerPort: 27016, protocol: 'UDP' },
        { name: 'rcon', portPolicy: 'Passthrough', protocol: 'TCP' },
      ]);
    }
  });
});

describe('bad input', () => {
  it('a copy target that would hide a tree: exact error', () => {
    const config = fixtureConfig('', '/games/my-game', { app: '/mnt/app' });
    const i = deployInputFrom(config, fixtureRecord(), REPOSITORY);
    expect(() => k8sWorkload(i, {})).toThrow(
      'copy target /mnt/app of tree app overlaps its mount /mnt/app: the copy would hide the files it copies',
    );
    expect(() => k8sWorkload(i, { copyRoot: '/gamelayer-copy' })).not.toThrow();
  });

  it('bad options name the flag', () => {
    expect(() => k8sWorkload(input(), { kind: 'statefulset' as WorkloadKind })).toThrow(
      '--kind: got "statefulset"; expected one of pod, deployment, gameserver, fleet',
    );
    expect(() => k8sWorkload(input(), { engine: { cpu: 'lots', memory: '1Gi' } })).toThrow('--cpu: got "lots"; expected a Kubernetes quantity');
    expect(() => k8sWorkload(input(), { kind: 'fleet', portPolicy: 'Static' })).toThrow('--host-port: got nothing; expected a port');
  });

  it('a scratch base image gets a note: no sh for the scripts', () => {
    const config = fixtureConfig();
    config.baseImage = 'scratch';
    const { notes } = emit({}, deployInputFrom(config, fixtureRecord(), REPOSITORY));
    expect(notes[0]).toMatch(/^baseImage is scratch: the tree images have no sh or cp/);
  });
});

describe('--volumes none (the server image as the one container)', () => {
  for (const kind of WORKLOAD_KINDS) {
    it(`${kind}: one container running the server image, no init containers, no volumes, no copies`, () => {
      const { spec, engine, deliveries, requirements } = emit({ kind, volumes: 'none' });
      expect(spec.initContainers).toBeUndefined();
      expect(spec.volumes).toBeUndefined();
      expect(spec.containers).toHaveLength(1);
      expect(engine.image).toBe(`${REPOSITORY}:v1@${sha('server-image')}`);
      // No guard (nothing to check), so a base without a shell runs too; the start command is the command.
      expect(engine.command).toEqual(['./bin/server', '-port', '7777']);
      expect(engine.args).toBeUndefined();
      expect(engine.volumeMounts).toBeUndefined();
      expect(engine.workingDir).toBe('/opt/local/engine');
      // Only the scratch space is ephemeral storage: nothing is copied.
      expect(engine.resources!.requests!['ephemeral-storage']).toBe('1024Mi');
      expect(deliveries).toEqual([]);
      expect(requirements).toEqual([]);
    });
  }

  it('a record without a server image is refused with deploy.no-server-image', () => {
    const record = fixtureRecord();
    record.images = record.images.filter((i) => i.name !== 'server');
    const i = deployInputFrom(fixtureConfig(), record, REPOSITORY);
    expect(() => k8sWorkload(i, { volumes: 'none' })).toThrow(/has no server image .*--volumes none has nothing to run/);
    expect(k8sFileName({ kind: 'fleet', volumes: 'none' })).toBe('fleet-server-image.yaml');
  });
});

describe('deploy settings', () => {
  it('an ephemeral-storage limit below the copies is refused; flags go over the config key by key', () => {
    expect(() => emit({ volumes: 'init', engineResources: { limits: { 'ephemeral-storage': '100Mi' } } })).toThrow(
      /^deploy\.resources\.limits\.ephemeral-storage: 100Mi is less than the \d+Mi the tree copies take/,
    );
    // With no copies a limit below them is fine, as long as it is not below the request (the scratch space).
    expect(emit({ volumes: 'none', engineResources: { limits: { 'ephemeral-storage': '1100Mi' } } }).engine.resources!.limits!['ephemeral-storage']).toBe('1100Mi');
    const merged = mergeK8sOptions(
      { scheduling: { priorityClassName: 'a', nodeSelector: { x: '1' } }, env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { scheduling: { priorityClassName: 'b' }, env: [{ name: 'A', value: 'flag' }] },
    );
    const { spec, engine } = emit({ ...merged, kind: 'deployment' });
    expect(spec.priorityClassName).toBe('b');
    expect(spec.nodeSelector).toEqual({ x: '1' });
    expect(engine.env).toEqual([{ name: 'B', value: '2' }, { name: 'A', value: 'flag' }]);
  });

  // The config's own pairs are checked at load; a limit from it can still cross a request a flag or its default
  // gives (key by key merge), which the API server refuses at apply time.
  it('a merged limit below its request is refused, naming the config field and the flag', () => {
    expect(() => emit({ engineResources: { limits: { memory: '1Gi' } } })).toThrow(
      'deploy.resources.limits.memory 1Gi is below requests.memory 2Gi (--memory): Kubernetes refuses a limit lower than its request',
    );
    expect(() => emit({ engine: { cpu: '1', memory: '2Gi', cpuLimit: '1500m' }, engineResources: { requests: { cpu: '2' } } })).toThrow(
      'limits.cpu 1500m (--cpu-limit) is below deploy.resources.requests.cpu 2',
    );
    expect(() => emit({ volumes: 'none', engineResources: { limits: { 'ephemeral-storage': '100Mi' } } })).toThrow(
      'deploy.resources.limits.ephemeral-storage 100Mi is below requests.ephemeral-storage 1024Mi (the tree copies and --scratch)',
    );
    expect(() => emit({ volumes: 'init', copyResources: { requests: { memory: '1Gi' } } })).toThrow(
      'limits.memory 128Mi (--copy-memory) is below deploy.copyResources.requests.memory 1Gi',
    );
    // Without copy containers their resources are not written, so not checked; a limit above the request is fine.
    expect(() => emit({ volumes: 'none', copyResources: { requests: { memory: '1Gi' } } })).not.toThrow();
    const { engine } = emit({ engineResources: { requests: { memory: '3G' }, limits: { memory: '3Gi' } } });
    expect(engine.resources).toMatchObject({ requests: { memory: '3G' }, limits: { memory: '3Gi' } });
  });
});
