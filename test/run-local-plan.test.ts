// run-local's reading of the emitted pod (no daemon): every workload kind gives the same containers, commands,
// mounts and security settings as the pod spec; what Docker cannot do is refused by name; flag parsing.
import { describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { WORKLOAD_KINDS } from '../src/k8s/options.js';
import { k8sWorkload, type K8sEmission } from '../src/k8s/workloads.js';
import { durationMs, envEntry, portNumber } from '../src/runlocal/options.js';
import { podSpecOf, quantityBytes, quantityNumber, runPlan } from '../src/runlocal/plan.js';
import { TREE_NAMES } from '../src/types.js';
import { REPOSITORY, fixtureConfig, fixtureRecord, sha } from './k8s-fixture.js';

const input = () => deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
/** Docker ids stand-ins: the tree name the reference pins, so a test sees which image each container gets. */
const TREE_OF_DIGEST = new Map([...TREE_NAMES.map((t) => [sha(`${t}-image`), t] as const), [sha('server-image'), 'server'] as const]);
const resolveImage = (ref: string) => `id-${/:v1-([a-z-]+)@/.exec(ref)?.[1] ?? TREE_OF_DIGEST.get(ref.slice(ref.indexOf('@') + 1))}`;

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof GamelayerError) return e.code;
    throw e;
  }
  return undefined;
}

describe('run plan from the emitted pod', () => {
  it('copy mode: three copy containers in order, then the engine, exactly as the pod spec has them', () => {
    const emission = k8sWorkload(input(), {});
    const spec = podSpecOf(emission);
    const plan = runPlan(emission, 'my-game', { resolveImage, env: ['MODE=test'] });
    expect(plan.init.map((c) => c.name)).toEqual(['copy-engine-media', 'copy-app', 'copy-app-media']);
    expect(plan.volumes).toEqual([
      { name: 'tree-engine-media', kind: 'emptyDir' },
      { name: 'tree-app', kind: 'emptyDir' },
      { name: 'tree-app-media', kind: 'emptyDir' },
    ]);
    spec.initContainers!.forEach((k, i) => {
      const c = plan.init[i]!;
      expect(c.entrypoint).toEqual(k.command);
      expect(c.cmd).toEqual([]);
      expect(c.podImage).toBe(k.image);
      expect(c.image).toBe(`id-${k.name.slice('copy-'.length)}`);
      expect(c.mounts).toEqual(k.volumeMounts!.map((m) => ({ volume: m.name, target: m.mountPath, readOnly: false })));
      expect(c).toMatchObject({ user: '1000:1000', groupAdd: ['1000'], readOnlyRootfs: true, noNewPrivileges: true, capDrop: ['ALL'], privileged: false });
      expect(c.memoryBytes).toBe(128 * 2 ** 20);
      expect(c.nanoCpus).toBeUndefined();
      expect(c.env).toEqual([]);
    });
    const k = spec.containers[0]!;
    expect(plan.engine).toMatchObject({
      name: 'engine',
      image: 'id-engine',
      entrypoint: k.command,
      cmd: ['./bin/server', '-port', '7777'],
      workingDir: '/opt/local/engine',
      env: ['MODE=test'],
      user: '1000:1000',
      readOnlyRootfs: false,
      noNewPrivileges: true,
      capDrop: ['ALL'],
      memoryBytes: 2 * 2 ** 30,
      ports: [{ port: 7777, protocol: 'udp' }],
    });
    expect(plan.engine.mounts).toEqual(k.volumeMounts!.map((m) => ({ volume: m.name, target: m.mountPath, readOnly: false })));
  });

  it('every workload kind runs the same pod; replicas and Agones get a note', () => {
    const base = runPlan(k8sWorkload(input(), {}), 'p', { resolveImage });
    for (const kind of WORKLOAD_KINDS) {
      const e = k8sWorkload(input(), { kind, replicas: 3, volumes: 'init' });
      const plan = runPlan(e, 'p', { resolveImage });
      expect(plan.init).toEqual(base.init);
      expect(plan.engine.entrypoint).toEqual(base.engine.entrypoint);
      expect(plan.engine.mounts).toEqual(base.engine.mounts);
      const notes = plan.notes.join('\n');
      expect(notes.includes('replicas')).toBe(kind === 'deployment' || kind === 'fleet');
      expect(notes.includes('Agones')).toBe(kind === 'gameserver' || kind === 'fleet');
    }
  });

  it('image volumes: filled from the directory the subPath names, mounted read-only; --uid 0 runs as root', () => {
    const plan = runPlan(k8sWorkload(input(), { volumes: 'image', runAsUser: 0, runAsGroup: 0, refs: 'tag' }), 'p', { resolveImage, args: ['sh'] });
    // The fixture's non-engine trees have no executables: all three are image volumes, nothing is copied.
    expect(plan.init).toEqual([]);
    expect(plan.volumes).toEqual(
      ['engine-media', 'app', 'app-media'].map((t) => ({
        name: `tree-${t}`,
        kind: 'image',
        podImage: expect.stringContaining(`:v1-${t}@sha256:`),
        image: `id-${t}`,
        path: `/opt/local/${t}`,
      })),
    );
    expect(plan.engine.mounts).toEqual(['engine-media', 'app', 'app-media'].map((t) => ({ volume: `tree-${t}`, target: `/opt/local/${t}`, readOnly: true })));
    expect(plan.engine.user).toBe('0:0');
    expect(plan.engine.cmd).toEqual(['sh']);
    expect(plan.notes.join('\n')).toContain('image volumes are emulated');
  });

  it('refuses, by name, what Docker or run-local cannot do', () => {
    const edit = (change: (e: K8sEmission) => void) => {
      const e = k8sWorkload(input(), {});
      change(e);
      return () => runPlan(e, 'p', { resolveImage });
    };
    expect(code(edit((e) => (podSpecOf(e).initContainers![0]!.volumeMounts![0]!.subPath = 'x')))).toBe('run.volume');
    expect(code(edit((e) => (podSpecOf(e).volumes![0] = { name: 'tree-engine-media', hostPath: { path: '/' } })))).toBe('run.volume');
    expect(code(edit((e) => (podSpecOf(e).containers[0]!.securityContext!.runAsUser = 0)))).toBe('run.security');
    expect(code(edit((e) => (podSpecOf(e).containers[0]!.env = [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }])))).toBe('run.env');
    expect(code(edit((e) => podSpecOf(e).containers.push({ name: 'sidecar', image: 'x' })))).toBe('run.containers');
    expect(() => runPlan(k8sWorkload(input(), {}), 'p', { resolveImage: () => { throw new GamelayerError('run.image', 'unknown'); } })).toThrow('unknown');
  });
});

describe('quantities and flags', () => {
  it('parses Kubernetes quantities', () => {
    expect(quantityBytes('128Mi', 'x')).toBe(134217728);
    expect(quantityBytes('1G', 'x')).toBe(1e9);
    expect(quantityNumber('250m', 'x')).toBe(0.25);
    expect(quantityNumber('2', 'x')).toBe(2);
    // Every form the config loader and the k8s specs take.
    expect(quantityNumber('.5', 'x')).toBe(0.5);
    expect(quantityNumber('1e3', 'x')).toBe(1000);
    expect(quantityBytes('1.5Gi', 'x')).toBe(1536 * 2 ** 20);
    expect(() => quantityNumber('2 GB', 'limits.memory')).toThrow('limits.memory: "2 GB" is not a Kubernetes quantity');
  });

  it('parses --timeout, --env and --publish, naming the flag when wrong', () => {
    expect(durationMs('--timeout', '90')).toBe(90_000);
    expect(durationMs('--timeout', '1500ms')).toBe(1500);
    expect(durationMs('--timeout', '5m')).toBe(300_000);
    expect(durationMs('--timeout', '1h')).toBe(3_600_000);
    expect(() => durationMs('--timeout', '0s')).toThrow('--timeout: got "0s"; expected a duration such as 90s, 5m or 1h');
    expect(() => durationMs('--timeout', 'soon')).toThrow('--timeout: got "soon"');
    expect(envEntry('--env', 'A=b=c')).toBe('A=b=c');
    expect(envEntry('--env', 'EMPTY=')).toBe('EMPTY=');
    expect(() => envEntry('--env', 'NOVALUE')).toThrow('--env: got "NOVALUE"; expected NAME=VALUE');
    expect(() => envEntry('--env', '1X=2')).toThrow('--env: got "1X=2"');
    expect(portNumber('--publish', '7777')).toBe(7777);
    expect(() => portNumber('--publish', '70000')).toThrow('--publish: got "70000"; expected a port from 1 to 65535');
  });
});

describe('run plan of --volumes none', () => {
  const resolve = resolveImage;
  it('runs the server image alone, no volumes; -- ARGS replace the command (there is no guard in front)', () => {
    for (const kind of WORKLOAD_KINDS) {
      const plan = runPlan(k8sWorkload(input(), { kind, volumes: 'none' }), 'p', { resolveImage: resolve });
      expect(plan.volumes).toEqual([]);
      expect(plan.init).toEqual([]);
      expect(plan.engine.image).toBe('id-server');
      expect(plan.engine.entrypoint).toEqual(['./bin/server', '-port', '7777']);
      expect(plan.engine.cmd).toEqual([]);
      expect(plan.engine.mounts).toEqual([]);
    }
    const replaced = runPlan(k8sWorkload(input(), { volumes: 'none' }), 'p', { resolveImage: resolve, args: ['sh', '-c', 'exit 3'] });
    expect(replaced.engine.entrypoint).toEqual(['sh', '-c', 'exit 3']);
    expect(replaced.engine.cmd).toEqual([]);
  });
});
