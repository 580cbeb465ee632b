// gamelayer.yaml's deploy section: a bad value is reported at its line and column with the schema's reason; the
// Agones schema extract the loader checks against stays equal to the CRDs the output is validated with.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { deploySchemas } from '../scripts/agones-deploy-schema.mjs';
import { parseConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { DEPLOY, fixtureConfig } from './k8s-fixture.js';

const FILE = '/games/my-game/gamelayer.yaml';

/** The config of k8s-fixture.ts with `deploy` appended; returns the error message (or undefined). */
function errorOf(deploy: string): string | undefined {
  try {
    fixtureConfig(deploy);
  } catch (e) {
    expect(e).toBeInstanceOf(GamelayerError);
    expect((e as GamelayerError).code).toBe('config.invalid');
    return (e as GamelayerError).message;
  }
  return undefined;
}

// fixtureConfig's text has 10 lines before `extra`: the deploy section starts on line 11.
describe('deploy: in gamelayer.yaml', () => {
  it('a full section is accepted and kept as the Kubernetes types say', () => {
    const config = fixtureConfig(DEPLOY);
    expect(config.deploy?.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'game', effect: 'NoSchedule' }]);
    expect(config.deploy?.ports).toEqual([
      { name: 'game', containerPort: 7777, protocol: 'UDP' },
      { name: 'query', containerPort: 27015, protocol: 'TCP', portPolicy: 'Static', hostPort: 27015 },
    ]);
    expect(config.deploy?.resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '4Gi' } });
  });

  it('a toleration with a bad effect: line and column of the value, the allowed values', () => {
    expect(errorOf('deploy:\n  tolerations:\n    - {key: a, operator: Exists, effect: Sometimes}')).toBe(
      `${FILE}:13:42: deploy.tolerations.0.effect: expected one of NoExecute, NoSchedule, PreferNoSchedule`,
    );
  });

  // Names the schemas take as any string, which the API server refuses the whole object for (a trial found them in
  // the specs as written): refused at their line and column.
  it('a node selector, service account, priority class or env name the API server would refuse', () => {
    expect(errorOf('deploy:\n  nodeSelector: {pool: "a=b"}')).toBe(
      `${FILE}:12:24: deploy.nodeSelector.pool: "a=b": expected a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)`,
    );
    expect(errorOf('deploy:\n  nodeSelector: {"po\u202eol": x}')).toBe(
      `${FILE}:12:18: deploy.nodeSelector.po\u202eol: "po\u202eol": expected a label key: [PREFIX/]NAME, NAME at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, PREFIX a DNS subdomain`,
    );
    expect(errorOf('deploy:\n  serviceAccountName: Game_Servers')).toBe(
      `${FILE}:12:23: deploy.serviceAccountName: "Game_Servers": expected a DNS subdomain: lower-case letters, digits, "-" and ".", at most 253 characters`,
    );
    expect(errorOf('deploy:\n  env:\n    - {name: "MA\u200bP", value: "1"}')).toBe(
      `${FILE}:13:14: deploy.env.0.name: "MA\u200bP": expected a variable name of printable ASCII characters (U+0020 to U+007E) without "="`,
    );
    expect(errorOf('deploy:\n  nodeSelector: {cloud.google.com/gke-nodepool: game-1, empty: ""}\n  priorityClassName: high.priority')).toBeUndefined();
  });

  it('a misspelt affinity key (the API server would drop it) and a missing operator', () => {
    const text = [
      'deploy:',
      '  affinity:',
      '    nodeAffinity:',
      '      requiredDuringSchedulingIgnoredDuringExecution:',
      '        nodeSelectorTerms:',
      '          - matchExpressions:',
      '              - {key: node-group, operatr: In, values: [game]}',
    ].join('\n');
    expect(errorOf(text)).toBe(
      [
        `${FILE}:17:35: deploy.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.operatr: unknown field (the API server would drop it)`,
        `${FILE}:17:17: deploy.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0: missing operator`,
      ].join('\n'),
    );
  });

  it('a resource quantity that is not one, checked by kubernetes-models', () => {
    expect(errorOf('deploy:\n  resources:\n    requests: {cpu: lots}')).toBe(
      `${FILE}:13:21: deploy.resources.requests.cpu: expected a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi`,
    );
  });

  // Kubernetes refuses a container whose limit is below its request at apply time: refused at load, at the limit.
  it('a limit below its request, in resources or copyResources, compared as quantities', () => {
    expect(errorOf('deploy:\n  resources:\n    requests: {cpu: "2", memory: 4Gi}\n    limits: {cpu: "1", memory: 2Gi}')).toBe(
      [
        `${FILE}:14:19: deploy.resources.limits.cpu: 1 is below the request (resources.requests.cpu: 2); Kubernetes refuses a limit lower than its request`,
        `${FILE}:14:32: deploy.resources.limits.memory: 2Gi is below the request (resources.requests.memory: 4Gi); Kubernetes refuses a limit lower than its request`,
      ].join('\n'),
    );
    expect(errorOf('deploy:\n  copyResources:\n    requests: {memory: 2Gi}\n    limits: {memory: 2G}')).toBe(
      `${FILE}:14:22: deploy.copyResources.limits.memory: 2G is below the request (copyResources.requests.memory: 2Gi); Kubernetes refuses a limit lower than its request`,
    );
    expect(errorOf('deploy:\n  resources:\n    requests: {cpu: 1001m}\n    limits: {cpu: "1"}')).toMatch(/deploy\.resources\.limits\.cpu: 1 is below the request/);
    expect(errorOf('deploy:\n  resources:\n    limits: {cpu: "-1"}')).toMatch(/deploy\.resources\.limits\.cpu: -1: expected a quantity ≥ 0/);
    // Equal values written differently, and limits above their requests, are fine.
    expect(errorOf('deploy:\n  resources:\n    requests: {cpu: 1500m, memory: 2G, ephemeral-storage: "999"}\n    limits: {cpu: "1.5", memory: 2Gi, ephemeral-storage: "1e3"}')).toBeUndefined();
    expect(errorOf('deploy:\n  copyResources:\n    requests: {cpu: ".5", memory: "0.3"}\n    limits: {cpu: 500m, memory: 300m}')).toBeUndefined();
  });

  it('ports: protocol, hostPort without Static, duplicate names; an unknown deploy key', () => {
    expect(errorOf('deploy:\n  ports:\n    - {containerPort: 7777, protocol: SCTP}')).toMatch(/^\/games\/my-game\/gamelayer\.yaml:13:\d+: deploy\.ports\.0\.protocol: /);
    expect(errorOf('deploy:\n  ports:\n    - {containerPort: 7777, hostPort: 7777}')).toBe(
      `${FILE}:13:39: deploy.ports.0.hostPort: a hostPort is only used with portPolicy Static`,
    );
    expect(errorOf('deploy:\n  ports:\n    - {name: a, containerPort: 1}\n    - {name: a, containerPort: 2}')).toBe(
      `${FILE}:14:14: deploy.ports.1.name: a is also the name of port 0; expected distinct names`,
    );
    expect(errorOf('deploy:\n  nodeSelecter: {a: b}')).toMatch(/^\/games\/my-game\/gamelayer\.yaml:12:3: deploy\.nodeSelecter: unknown field; expected one of volumes, nodeSelector, /);
  });

  // The API server takes a container port name as IANA_SVC_NAME: these passed the config and were refused at apply.
  it('a port name of digits only, or with "--": refused as the API server would', () => {
    for (const name of ['27015', 'a--b']) {
      expect(errorOf(`deploy:\n  ports:\n    - {name: '${name}', containerPort: 1}`)).toMatch(/^\/games\/my-game\/gamelayer\.yaml:13:\d+: deploy\.ports\.0\.name: expected a port name of lower-case letters, digits and "-" with at least one letter and no "--"/);
    }
  });

  it('Agones health: a wrong type in the CRD schema', () => {
    expect(errorOf('deploy:\n  agones:\n    health: {periodSeconds: often}')).toBe(`${FILE}:13:29: deploy.agones.health.periodSeconds: must be integer`);
  });

  it('src/config/agones-deploy-schema.json is the CRD schemas the output is validated with (node scripts/agones-deploy-schema.mjs)', () => {
    const crds = readFileSync(new URL('./schemas/agones-crds.yaml', import.meta.url), 'utf8');
    const extract = JSON.parse(readFileSync(new URL('../src/config/agones-deploy-schema.json', import.meta.url), 'utf8'));
    expect(extract).toEqual(deploySchemas(crds));
  });
});

// deploy.readOnlyRootFilesystem (opt-in) with deploy.writablePaths: each path checked at its line and column.
describe('deploy.readOnlyRootFilesystem and writablePaths', () => {
  it('kept as written, paths without a trailing slash; /tmp when no paths are given', () => {
    expect(fixtureConfig(DEPLOY).deploy).toMatchObject({ readOnlyRootFilesystem: true, writablePaths: ['/tmp', '/var/log/game'] });
    expect(fixtureConfig('deploy:\n  readOnlyRootFilesystem: true').deploy).toEqual({ readOnlyRootFilesystem: true });
  });

  it('refuses a relative path, /, a runtime path, a path twice, paths with a writable root, and a path on a tree', () => {
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [tmp]')).toBe(
      `${FILE}:13:19: deploy.writablePaths.0: expected an absolute folder path below / such as /tmp or /var/log/game`,
    );
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [/]')).toMatch(/:13:19: deploy\.writablePaths\.0: expected an absolute folder path below \//);
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [/tmp, /proc/x]')).toMatch(/:13:25: deploy\.writablePaths\.1: is a path the container runtime owns/);
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [/tmp, /tmp/]')).toBe(`${FILE}:13:25: deploy.writablePaths.1: /tmp is also entry 0; expected each path once`);
    expect(errorOf('deploy:\n  writablePaths: [/tmp]')).toBe(
      `${FILE}:12:3: deploy.writablePaths: is only used with readOnlyRootFilesystem: true (the root file system is writable without it)`,
    );
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [/tmp, /opt/local/app]')).toBe(
      `${FILE}:13:25: deploy.writablePaths.1: /opt/local/app is the mount of tree app (/opt/local/app); a folder mounted there would hide the tree's files`,
    );
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [/opt]')).toMatch(/deploy\.writablePaths\.0: \/opt lies above the mount of tree engine \(\/opt\/local\/engine\)/);
    expect(errorOf('deploy:\n  readOnlyRootFilesystem: yes')).toMatch(/deploy\.readOnlyRootFilesystem/);
  });

  // A tree mounted at / took every path as overlapping: readOnlyRootFilesystem worked only with writablePaths: [].
  it('a path below a tree mount is allowed with a warning naming the tree; the default /tmp is checked too', () => {
    const ro = 'deploy:\n  readOnlyRootFilesystem: true';
    const rooted = fixtureConfig(`${ro}\n  writablePaths: [/tmp]`, '/games/my-game', { engine: '/' });
    expect(rooted.deploy?.writablePaths).toEqual(['/tmp']);
    expect(rooted.warnings).toEqual([
      `${FILE}:13:19: deploy.writablePaths.0: /tmp is inside the mount of tree engine (/): the engine sees an empty writable folder at /tmp, not the tree's files there`,
    ]);
    expect(fixtureConfig(`${ro}\n  writablePaths: [/opt/local/app/saves]`).warnings).toEqual([
      `${FILE}:13:19: deploy.writablePaths.0: /opt/local/app/saves is inside the mount of tree app (/opt/local/app): the engine sees an empty writable folder at /opt/local/app/saves, not the tree's files there`,
    ]);
    // The default [/tmp], never written, on a tree mounted at /tmp: refused at readOnlyRootFilesystem.
    let err: unknown;
    try {
      fixtureConfig(ro, '/games/my-game', { 'app-media': '/tmp' });
    } catch (e) {
      err = e;
    }
    expect((err as GamelayerError).message).toBe(
      `${FILE}:12:27: deploy.readOnlyRootFilesystem: its default writable path /tmp is the mount of tree app-media (/tmp); a folder mounted there would hide the tree's files`,
    );
    expect((err as GamelayerError).hint).toMatch(/list deploy\.writablePaths outside every tree mount/);
    expect(fixtureConfig(`${ro}\n  writablePaths: []`, '/games/my-game', { 'app-media': '/tmp' }).warnings).toBeUndefined();
  });
});
