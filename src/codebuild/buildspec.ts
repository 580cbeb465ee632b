// Writes the CodeBuild buildspecs for a game: the same text for the same gamelayer.yaml, so the checked-in
// buildspecs/ can be compared with what this emits. Commands stay plain `gamelayer …` lines with a little shell,
// which a test runs as they are.
import path from 'node:path';
import { Document } from 'yaml';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { buildspecSchema, type Buildspec } from './buildspec-schema.js';

export type BuildspecKind = 'daemonless' | 'docker' | 'pr-check';

export interface BuildspecOptions {
  kind?: BuildspecKind;
  /** The source root the build runs in (CODEBUILD_SRC_DIR); paths in the buildspec are relative to it. Default cwd. */
  sourceRoot?: string;
}

/** Files the post_build phase writes; all become artifacts. */
export const ARTIFACTS = {
  imageDefinitions: 'imagedefinitions.json',
  buildRecord: 'gamelayer-build-record.json',
  diffReport: 'gamelayer-diff.txt',
  k8sDir: 'k8s-out',
} as const;

const TREE_TAG_SUFFIXES = ['engine', 'engine-media', 'app', 'app-media'];

export function buildspecObject(config: GameConfig, opts: BuildspecOptions = {}): Buildspec {
  const kind = opts.kind ?? 'daemonless';
  const root = path.resolve(opts.sourceRoot ?? process.cwd());
  const rel = (p: string, what: string) => {
    const r = path.relative(root, p);
    if (r === '' || r.startsWith('..') || path.isAbsolute(r)) {
      throw new GamelayerError(
        'buildspec.outside-source',
        `${what} ${p} is outside the source root ${root}: CodeBuild only has the checked-out source`,
        'run gamelayer codebuild buildspec from the root of the repository that holds the game',
      );
    }
    return r.split(path.sep).join('/');
  };
  const configFile = rel(config.file, 'the config');
  const stateDir = rel(config.stateDir, 'the state directory');
  const cachePaths = [`${stateDir}/**/*`];
  const store = rel(config.store, 'the OCI store');
  if (store !== stateDir && !store.startsWith(`${stateDir}/`)) cachePaths.push(`${store}/**/*`);

  const gl = (args: string) => `gamelayer -c "$GAMELAYER_CONFIG" ${args}`;
  const variables: Record<string, string> = { GAMELAYER_CONFIG: configFile };
  if (config.registry) variables.REPOSITORY_URI = repositoryOf(config.registry);

  const install = {
    'on-failure': 'ABORT' as const,
    'runtime-versions': { nodejs: 20 },
    commands: ['npm ci --no-audit --no-fund', 'export PATH="$CODEBUILD_SRC_DIR/node_modules/.bin:$PATH"'],
  };
  const needRepository =
    'test -n "$REPOSITORY_URI" || { echo "REPOSITORY_URI is not set: set it on the CodeBuild project (host/path of the image repository)" >&2; false; }';
  const tag = 'export IMAGE_TAG="${CODEBUILD_RESOLVED_SOURCE_VERSION:0:8}"';
  const diff = `${gl('diff')} > ${ARTIFACTS.diffReport} || echo "no earlier build in the CodeBuild cache: every layer is new" > ${ARTIFACTS.diffReport}`;

  if (kind === 'pr-check') {
    return checked({
      version: 0.2,
      env: { shell: 'bash', variables },
      phases: {
        install,
        build: {
          commands: [
            'export IMAGE_TAG="pr-${CODEBUILD_BUILD_NUMBER:-local}"',
            diff,
            `cat ${ARTIFACTS.diffReport}`,
            // A build into the local store, never pushed: its layer table says which layers a merge would push
            // and nodes would pull (built) and which they already have (reused), and how many bytes that is.
            gl('build --tag "$IMAGE_TAG"'),
          ],
        },
      },
      artifacts: { files: [ARTIFACTS.diffReport] },
      cache: { paths: cachePaths },
    });
  }

  const build =
    kind === 'docker'
      ? [gl('build --builder docker --push "$REPOSITORY_URI" --tag "$IMAGE_TAG"')]
      : [
          gl('build --tag "$IMAGE_TAG"'),
          // The server image, then one image per tree; blobs pushed once are skipped by the pushes after.
          ...['', ...TREE_TAG_SUFFIXES.map((t) => `-${t}`)].map((suffix) => gl(`push "$REPOSITORY_URI:$IMAGE_TAG${suffix}"`)),
        ];
  const preBuild = [needRepository, tag];
  if (kind === 'docker') {
    preBuild.push(
      'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
    );
  }
  preBuild.push(diff, `cat ${ARTIFACTS.diffReport}`);
  return checked({
    version: 0.2,
    env: { shell: 'bash', variables, 'exported-variables': ['IMAGE_TAG'] },
    phases: {
      install,
      pre_build: { 'on-failure': 'ABORT', commands: preBuild },
      build: { 'on-failure': 'ABORT', commands: build },
      post_build: {
        commands: [
          gl(`k8s --repository "$REPOSITORY_URI" --out ${ARTIFACTS.k8sDir}`),
          gl(`codebuild imagedefinitions --repository "$REPOSITORY_URI" --out ${ARTIFACTS.imageDefinitions}`),
          `cp ${stateDir}/records/build-last.json ${ARTIFACTS.buildRecord}`,
        ],
      },
    },
    artifacts: {
      files: [ARTIFACTS.imageDefinitions, ARTIFACTS.buildRecord, ARTIFACTS.diffReport, `${ARTIFACTS.k8sDir}/**/*`],
    },
    cache: { paths: cachePaths },
  });
}

const HEADERS: Record<BuildspecKind, string[]> = {
  daemonless: [
    'Daemonless: builds the layers with gamelayer itself (no Docker) and pushes only the blobs the registry lacks.',
    'Project settings: environment variable REPOSITORY_URI (host/path of the image repository); a role that may',
    'push to it; cache type LOCAL with mode LOCAL_CUSTOM_CACHE (or S3) so .gamelayer/ survives between builds.',
  ],
  docker: [
    'Docker daemon path: gamelayer writes the Dockerfile and builds through the daemon, then pushes.',
    'Project settings: privileged mode on (Docker in the build container); environment variable REPOSITORY_URI',
    '(an ECR repository URI); a role allowed ecr:GetAuthorizationToken and to push; cache as for buildspec.yml.',
  ],
  'pr-check': [
    'Pull-request check: prints what changed since the last build in the cache, and which layers a merge would',
    'push and nodes would pull. Pushes nothing. Use it as the buildspec of a project triggered by PR webhooks.',
  ],
};

/** The buildspec as YAML text: deterministic for a given config and source root. */
export function emitBuildspec(config: GameConfig, opts: BuildspecOptions = {}): string {
  const kind = opts.kind ?? 'daemonless';
  const spec = buildspecObject(config, opts);
  const doc = new Document(spec, { aliasDuplicateObjects: false });
  const configFile = spec.env?.variables?.GAMELAYER_CONFIG ?? '';
  doc.commentBefore = [
    ` AWS CodeBuild buildspec for ${config.game} (${configFile}), written by \`gamelayer codebuild buildspec\`.`,
    ...HEADERS[kind].map((l) => ` ${l}`),
    ...(kind === 'pr-check' ? [] : [' The image tag is the first 8 characters of the commit CodeBuild resolved (CODEBUILD_RESOLVED_SOURCE_VERSION).']),
  ].join('\n');
  return doc.toString({ lineWidth: 0, indent: 2, indentSeq: true });
}

function checked(spec: Buildspec): Buildspec {
  // Our own output must be a valid buildspec; a failure here is a bug, not a user error. The object itself is
  // returned (not zod's copy) so keys keep the order they are written in.
  buildspecSchema.parse(spec);
  return spec;
}

/** `host/path[:tag][@digest]` → `host/path`. */
function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}
