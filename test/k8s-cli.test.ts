// gamelayer k8s / ecs end to end: the real CLI (bin/gamelayer.js) on a temp game with a build record.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { ecsJson, ecsTaskDefinition } from '../src/ecs/task-definition.js';
import { loadDeployInput } from '../src/k8s/input.js';
import { lastBuildFile } from '../src/state/records.js';
import { k8sYaml } from '../src/k8s/output.js';
import { k8sWorkload } from '../src/k8s/workloads.js';
import { REPOSITORY, fixtureRecord, pushedRecord } from './k8s-fixture.js';

const BIN = fileURLToPath(new URL('../bin/gamelayer.js', import.meta.url));
let dir: string;

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gl-k8s-cli-'));
  writeFileSync(
    path.join(dir, 'gamelayer.yaml'),
    [
      'game: my-game',
      'version: 1.4.2',
      'baseImage: debian:bookworm-slim',
      'start: [./bin/server, -port, "7777"]',
      `registry: ${REPOSITORY}`,
      'trees:',
      '  engine: { source: engine }',
      '  engine-media: { source: engine-media }',
      '  app: { source: app }',
      '  app-media: { source: app-media }',
      // Chosen, so stderr holds only what each test asserts (the note while it is not: deploy-writable-root-notice).
      'deploy:',
      '  readOnlyRootFilesystem: false',
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gamelayer k8s / ecs', () => {
  it('without a build: exact error, exit 1, nothing written', () => {
    const r = cli('k8s', '--out', 'deploy');
    expect(r.status).toBe(1);
    // A fresh host (a new clone, a CI host) is pointed at the pushed build: the config's registry, --record REPO:TAG.
    expect(r.stderr).toBe(
      `error[record.no-build]: ${path.join(dir, '.gamelayer', 'records', 'build-last.json')}: no build yet, run gamelayer build\n` +
        `hint: on a host without the build (a fresh clone, a CI host), deploy a pushed one: --record ${REPOSITORY}:TAG (gamelayer ls ${REPOSITORY} lists them)\n`,
    );
    expect(existsSync(path.join(dir, 'deploy'))).toBe(false);
    const e = cli('ecs');
    expect(e.status).toBe(1);
    expect(e.stderr).toContain('no build yet, run gamelayer build');
  });

  it('writes each kind into --out, byte-identical to the library output', async () => {
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    mkdirSync(path.dirname(lastBuildFile(config)), { recursive: true });
    writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...pushedRecord() }));
    const { input } = await loadDeployInput(config);

    const r1 = cli('k8s', '--kind', 'fleet', '--volumes', 'init', '--replicas', '3', '--out', 'deploy');
    expect(r1.stderr).toBe(`wrote ${path.join(dir, 'deploy', 'fleet.yaml')}\n`);
    expect(r1.status).toBe(0);
    const r2 = cli('k8s', '--kind', 'deployment', '--volumes', 'image', '--out', 'deploy');
    expect(r2.status).toBe(0);
    expect(r2.stderr).toMatch(/^requires: Kubernetes image volumes \(KEP-4639/);
    const r3 = cli('ecs', '--out', 'deploy', '--execution-role-arn', 'arn:aws:iam::123456789012:role/exec');
    expect(r3.status).toBe(0);
    expect(readdirSync(path.join(dir, 'deploy')).sort()).toEqual(['deployment-image-volumes.yaml', 'ecs-task-definition.json', 'fleet.yaml']);

    const read = (f: string) => readFileSync(path.join(dir, 'deploy', f), 'utf8');
    expect(read('fleet.yaml')).toBe(k8sYaml(input, k8sWorkload(input, { kind: 'fleet', replicas: 3, volumes: 'init' })));
    expect(read('deployment-image-volumes.yaml')).toBe(k8sYaml(input, k8sWorkload(input, { kind: 'deployment', volumes: 'image' })));
    expect(read('ecs-task-definition.json')).toBe(
      ecsJson(ecsTaskDefinition(input, { executionRoleArn: 'arn:aws:iam::123456789012:role/exec' })),
    );
    expect((parse(read('fleet.yaml')) as { spec: { replicas: number } }).spec.replicas).toBe(3);
  });

  it('prints to stdout without --out; the same run twice gives the same bytes', () => {
    const a = cli('k8s', '--kind', 'gameserver', '--port', '27015/tcp', '--no-health');
    const b = cli('k8s', '--kind', 'gameserver', '--port', '27015/tcp', '--no-health');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const gs = parse(a.stdout) as { kind: string; spec: { ports: unknown[]; health: unknown } };
    expect(gs.kind).toBe('GameServer');
    expect(gs.spec.ports).toEqual([{ name: 'default', portPolicy: 'Dynamic', containerPort: 27015, protocol: 'TCP' }]);
    expect(gs.spec.health).toEqual({ disabled: true });
  });

  it('--json: the files written and the images pinned, digests as in the spec; without --out the spec in it', async () => {
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const { input } = await loadDeployInput(config);
    const record = lastBuildFile(config);
    const treeImages = input.trees.map((t) => ({ name: t.tree, reference: t.digestRef, digest: t.imageDigest }));
    const k = cli('k8s', '--kind', 'fleet', '--volumes', 'init', '--out', 'deploy-json', '--json');
    expect(k.status, k.stderr).toBe(0);
    expect(k.stderr).toBe('');
    expect(JSON.parse(k.stdout)).toEqual({ record, files: [path.join(dir, 'deploy-json', 'fleet.yaml')], removed: [], images: treeImages });
    const printed = JSON.parse(cli('k8s', '--kind', 'fleet', '--volumes', 'init', '--json').stdout) as { spec: string; files: string[] };
    expect(printed.files).toEqual([]);
    expect(printed.spec).toBe(readFileSync(path.join(dir, 'deploy-json', 'fleet.yaml'), 'utf8'));
    const server = JSON.parse(cli('k8s', '--volumes', 'none', '--json').stdout) as { images: unknown[] };
    expect(server.images).toEqual([{ name: 'server', reference: input.serverDigestRef, digest: input.serverDigestRef!.split('@')[1] }]);

    const e = cli('ecs', '--out', 'deploy-json', '--json');
    expect(e.status, e.stderr).toBe(0);
    const ecs = JSON.parse(e.stdout) as { record: string; family: string; files: string[]; images: { container: string; reference: string; digest: string }[]; taskDefinition?: unknown };
    expect(ecs).toMatchObject({ record, family: 'my-game', files: [path.join(dir, 'deploy-json', 'ecs-task-definition.json')] });
    expect(ecs.taskDefinition).toBeUndefined();
    const written = JSON.parse(readFileSync(path.join(dir, 'deploy-json', 'ecs-task-definition.json'), 'utf8')) as { containerDefinitions: { name: string; image: string }[] };
    expect(ecs.images.map((i) => [i.container, i.reference])).toEqual(written.containerDefinitions.map((c) => [c.name, c.image]));
    expect(new Set(ecs.images.map((i) => i.digest))).toEqual(new Set(input.trees.map((t) => t.imageDigest)));
    expect(JSON.parse(cli('ecs', '--json').stdout).taskDefinition).toEqual(written);
  });

  it('bad flags name themselves', () => {
    // A bad flag value is a usage error (README, docs/errors.md "Exit status"): exit 2.
    const r = cli('k8s', '--kind', 'job');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error[deploy.option]: --kind: got "job"; expected one of pod, deployment, gameserver, fleet\n');
    const s = cli('k8s', '--scratch', 'lots');
    expect(s.status).toBe(2);
    expect(s.stderr).toBe('error[deploy.option]: --scratch: got "lots"; expected a size such as 512MiB, 2GiB or a byte count\n');
    // A TiB is a size (it was refused as "expected a size such as 512MiB…").
    const t = cli('k8s', '--scratch', '1TiB');
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    const storage = (out: string) => Number(/ephemeral-storage: "?(\d+)Mi/.exec(out)![1]);
    expect(storage(t.stdout) - storage(cli('k8s', '--scratch', '0').stdout)).toBe(1024 * 1024);
    const e = cli('ecs', '--cpu', '1024', '--memory', '512');
    expect(e.status).toBe(2);
    expect(e.stderr).toBe('error[deploy.option]: --memory: got 512; expected for --cpu 1024 on Fargate: 2048-8192 MiB in steps of 1024\n');
  });

  // A trial found these left out of the spec without a word: --replicas 3 of a GameServer wrote one server,
  // --port-policy and --no-health of a pod or Deployment wrote nothing of them.
  it('flags that mean nothing for the kind, and keys given twice with different values, are refused', () => {
    const cases: [string[], string][] = [
      [['--kind', 'gameserver', '--replicas', '3'], '--replicas: not for --kind gameserver; a pod or GameServer is one server\nhint: pass --kind deployment or --kind fleet, or leave --replicas out'],
      [['--replicas', '2'], '--replicas: not for --kind pod; a pod or GameServer is one server\nhint: pass --kind deployment or --kind fleet, or leave --replicas out'],
      [['--kind', 'deployment', '--port-policy', 'Passthrough'], '--port-policy: not for --kind deployment; it is an Agones port setting\nhint: pass --kind gameserver or --kind fleet, or leave --port-policy out'],
      [['--no-health'], '--no-health: not for --kind pod; it turns off Agones health checking\nhint: pass --kind gameserver or --kind fleet, or leave --no-health out'],
      // The spec kept the last node selector, and both env entries (the container seeing the last), without a word.
      [['--node-selector', 'pool=a', '--node-selector', 'pool=b'], '--node-selector: got "pool=a, pool=b"; expected one value for each key'],
      [['-e', 'A=1', '-e', 'A=2'], '--env: got "A=1, A=2"; expected one value for each key'],
      // Written as given; the API server refuses a request above its limit at apply time.
      [['--cpu', '2', '--cpu-limit', '500m'], '--cpu-limit: got "500m"; expected at least the CPU request (--cpu 2): Kubernetes refuses a request above its limit'],
    ];
    for (const [args, message] of cases) {
      const r = cli('k8s', ...args);
      expect(r.stderr).toBe(`error[deploy.option]: ${message}\n`);
      expect(r.status).toBe(2);
    }
    expect(cli('k8s', '--kind', 'fleet', '--replicas', '0', '--port-policy', 'Passthrough', '--no-health').status).toBe(0);
    // ecs: the log and health-check settings without the flag they shape were left out without a word.
    for (const [args, message] of [
      [['--health-interval', '10'], '--health-interval: needs --health-cmd; without it the task has no health check for it to shape\nhint: pass --health-cmd, or leave --health-interval out'],
      [['--log-region', 'eu-west-1'], '--log-region: needs --log-group; without it the task has no log configuration for it to shape\nhint: pass --log-group, or leave --log-region out'],
    ] as [string[], string][]) {
      const r = cli('ecs', ...args);
      expect(r.stderr).toBe(`error[deploy.option]: ${message}\n`);
      expect(r.status).toBe(2);
    }
    const ecs = cli('ecs', '--log-group', 'games', '--log-region', 'eu-west-1', '--health-cmd', 'true', '--health-interval', '10');
    expect(ecs.status, ecs.stderr).toBe(0);
    expect(ecs.stdout).toContain('"awslogs-region": "eu-west-1"');
    expect(ecs.stdout).toContain('"interval": 10');
    const same = cli('k8s', '--node-selector', 'pool=a', '--node-selector', 'pool=a', '-e', 'A=1', '-e', 'A=1');
    expect(same.status).toBe(0);
    expect(cli('k8s', '--cpu', '500m', '--cpu-limit', '0.5').status).toBe(0);
    // Compared exactly: 700 × 0.001 is above 0.7 in floating point.
    expect(cli('k8s', '--cpu', '700m', '--cpu-limit', '0.7').status).toBe(0);
    expect(same.stdout.match(/- name: A\n/g)).toHaveLength(1);
  });

  // A trial found these written into the spec as given: the API server refuses the object at apply time (an invalid
  // label, service account or priority class name), or Agones drops the host port of a Dynamic port without a word.
  it('node selectors, service accounts, priority classes and host ports the cluster would refuse or drop name themselves', () => {
    const cases: [string[], string][] = [
      [['--node-selector', 'pool=a=b'], '--node-selector: got "pool=a=b"; expected a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)'],
      [['--node-selector', 'po\u202eol=x'], '--node-selector: got "po\u202eol=x"; expected a label key: [PREFIX/]NAME, NAME at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, PREFIX a DNS subdomain'],
      [['--node-selector', 'Example.com/pool=x'], '--node-selector: got "Example.com/pool=x"; expected a label key: [PREFIX/]NAME, NAME at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, PREFIX a DNS subdomain'],
      [['--service-account', 'Bad!'], '--service-account: got "Bad!"; expected a DNS subdomain: lower-case letters, digits, "-" and ".", at most 253 characters'],
      [['--priority-class', 'High_Priority'], '--priority-class: got "High_Priority"; expected a DNS subdomain: lower-case letters, digits, "-" and ".", at most 253 characters'],
      [['-e', 'MA\u200bP=1'], '--env: got "MA\u200bP"; expected a variable name of printable ASCII characters (U+0020 to U+007E) without "="'],
      [['--kind', 'gameserver', '--host-port', '7000'], '--host-port: got 7000; expected --port-policy Static: Agones uses a host port only there (this port is Dynamic)'],
    ];
    for (const [args, message] of cases) {
      const r = cli('k8s', ...args);
      expect(r.stderr).toBe(`error[deploy.option]: ${message}\n`);
      expect(r.status).toBe(2);
    }
    // The valid forms still go through.
    const ok = cli('k8s', '--kind', 'fleet', '--node-selector', 'cloud.google.com/gke-nodepool=game-1', '--node-selector', 'empty=', '--service-account', 'game.servers', '--priority-class', 'high-priority', '--port-policy', 'Static', '--host-port', '7000');
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
  });
});
