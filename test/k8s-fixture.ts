// A small game config and build record for the deploy tests: real shapes, synthetic content.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type GameConfig } from '../src/config/load.js';
import { lastBuildFile } from '../src/state/records.js';
import { TREE_NAMES, type BuildRecord, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';

export const REPOSITORY = '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-game';

export function sha(s: string): string {
  return `sha256:${createHash('sha256').update(s).digest('hex')}`;
}

export function fixtureConfig(extra = '', dir = '/games/my-game', mounts: Partial<Record<TreeName, string>> = {}): GameConfig {
  const mount = (t: TreeName) => (mounts[t] ? `, mount: ${JSON.stringify(mounts[t])}` : '');
  const text = [
    'game: my-game',
    'version: 1.4.2',
    'baseImage: debian:bookworm-slim',
    'start: [./bin/server, -port, "7777"]',
    `registry: ${REPOSITORY}`,
    'trees:',
    `  engine: { source: engine${mount('engine')} }`,
    `  engine-media: { source: engine-media${mount('engine-media')} }`,
    `  app: { source: app${mount('app')} }`,
    `  app-media: { source: app-media${mount('app-media')} }`,
    extra,
  ].join('\n');
  return parseConfig(text, `${dir}/gamelayer.yaml`);
}

/** Per tree: [file sizes], executable flags alongside. Defaults give distinct, known byte counts. */
export const TREE_FILES: Record<TreeName, { size: number; exec?: boolean }[]> = {
  engine: [{ size: 3_000_000, exec: true }, { size: 1000 }],
  'engine-media': [{ size: 50_000_000 }, { size: 7_000_000 }],
  app: [{ size: 2_000_000 }, { size: 300 }],
  'app-media': [{ size: 900_000_000 }, { size: 120_000_000 }, { size: 1 }],
};

export function manifest(tree: TreeName, files = TREE_FILES[tree], platform?: string): TreeManifest {
  const entries: FileEntry[] = [{ path: 'data', type: 'dir', mode: 0o755, size: 0 }];
  files.forEach((f, i) => {
    entries.push({ path: `data/f${i}`, type: 'file', mode: f.exec ? 0o755 : 0o644, size: f.size, xxh64: '0'.repeat(16) });
  });
  entries.push({ path: 'link', type: 'symlink', mode: 0o777, size: 0, linkTarget: 'data' });
  return {
    tree,
    root: `/games/my-game/${tree}`,
    source: { kind: 'dir', path: `/games/my-game/${tree}` },
    ...(platform ? { platform } : {}),
    entries,
    digest: sha(`${tree}${platform ?? ''}manifest`),
  };
}

/** fixtureRecord as pushed to REPOSITORY: its `pushed` entry names every image with its digest. */
export function pushedRecord(overrides: Partial<BuildRecord> = {}): BuildRecord {
  const r = fixtureRecord(overrides);
  return { ...r, pushed: [{ repository: REPOSITORY, images: r.images.map((i) => ({ name: i.name, digest: i.digest })), at: '2026-01-01T00:01:00.000Z' }] };
}

export function fixtureRecord(overrides: Partial<BuildRecord> = {}): BuildRecord {
  return {
    schemaVersion: 1,
    game: 'my-game',
    version: '1.4.2',
    createdAt: '2026-01-01T00:00:00.000Z',
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: TREE_NAMES.map((t) => manifest(t)),
    plan: { layers: [] },
    layers: [],
    images: [
      ...TREE_NAMES.map((t) => ({ name: t, digest: sha(`${t}-image`), mediaType: 'application/vnd.oci.image.manifest.v1+json' })),
      { name: 'server', digest: sha('server-image'), mediaType: 'application/vnd.oci.image.manifest.v1+json' },
    ],
    ...overrides,
  };
}

/** A deploy section with every setting (gamelayer.yaml), for fixtureConfig(DEPLOY). */
export const DEPLOY = `deploy:
  nodeSelector: {eks.amazonaws.com/nodegroup: game-servers}
  tolerations:
    - {key: dedicated, operator: Equal, value: game, effect: NoSchedule}
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 50
          podAffinityTerm:
            topologyKey: kubernetes.io/hostname
            labelSelector: {matchLabels: {app.kubernetes.io/component: game-server}}
  priorityClassName: game-servers
  serviceAccountName: game-server
  terminationGracePeriodSeconds: 120
  env:
    - {name: GAME_REGION, value: eu-west-1}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
  resources:
    requests: {cpu: "2", memory: 4Gi}
    limits: {memory: 4Gi}
  copyResources:
    requests: {ephemeral-storage: 2Gi}
  ports:
    - {name: game, containerPort: 7777, protocol: UDP}
    - {name: query, containerPort: 27015, protocol: TCP, portPolicy: Static, hostPort: 27015}
  agones:
    portPolicy: Dynamic
    scheduling: Distributed
    health: {initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 5}
  readOnlyRootFilesystem: true
  writablePaths: [/tmp, /var/log/game/]
`;

/** A folder the real CLI deploys from: fixtureConfig's game as gamelayer.yaml and pushedRecord as its last build. */
export function writeFixtureGame(dir: string): GameConfig {
  const config = fixtureConfig('', dir);
  writeFileSync(
    config.file,
    ['game: my-game', 'version: 1.4.2', 'baseImage: debian:bookworm-slim', 'start: [./bin/server]', `registry: ${REPOSITORY}`, 'trees:', ...TREE_NAMES.map((t) => `  ${t}: { source: ${t} }`), ''].join('\n'),
  );
  mkdirSync(path.dirname(lastBuildFile(config)), { recursive: true });
  writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...pushedRecord() }));
  return config;
}
