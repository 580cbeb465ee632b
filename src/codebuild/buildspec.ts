// Writes the CodeBuild buildspecs for a game: the same text for the same gamelayer.yaml, so the checked-in
// buildspecs/ can be compared with what this emits. Commands stay plain `gamelayer …` lines with a little shell,
// which a test runs as they are.
// The last build into the config's store: its own pointer when the store is not the default (state/last-build.ts).
import { lastBuildName } from '../state/last-build.js';
import path from 'node:path';
import { Document } from 'yaml';
import { STDIN_CONFIG_NAME, type GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { isSameOrInside } from '../util/real-path.js';
import { buildspecSchema, type Buildspec } from './buildspec-schema.js';
import { regionRepositories, regionRepositoryLine } from './buildspec-regions.js';
import { shellWord } from '../util/shell-word.js';
import { yamlText } from '../util/yaml-text.js';

export type BuildspecKind = 'daemonless' | 'docker' | 'pr-check';

/** Supply chain of the pushed build (docs/supply-chain.md): the same flags as `build --push`. */
export interface BuildspecSupply {
  /** `--sbom` on the build line. */
  sbom?: boolean;
  /** The signing key (`awskms:///<ARN>`, or a PEM file's path on the build host), as GAMELAYER_SIGN_KEY. */
  sign?: string;
}

/** The build line's supply-chain flags, and the variable that holds the key (set on the project to change it). */
export function supplyFlags(supply: BuildspecSupply | undefined, variables: Record<string, string>): string {
  if (supply?.sign) variables.GAMELAYER_SIGN_KEY = supply.sign;
  return `${supply?.sbom ? ' --sbom' : ''}${supply?.sign ? ' --sign "$GAMELAYER_SIGN_KEY"' : ''}`;
}

/** The buildspec's comment lines on its SBOM and signatures, when it makes them. */
export function supplyHeader(supply: BuildspecSupply | undefined): string[] {
  if (!supply?.sbom && !supply?.sign) return [];
  return [
    ` Supply chain (docs/supply-chain.md):${supply.sbom ? ' a CycloneDX SBOM attached to the server image' : ''}${supply.sbom && supply.sign ? ';' : ''}${supply.sign ? ' every pushed image signed (cosign format)' : ''}.`,
    ...(supply.sign ? [' The key is GAMELAYER_SIGN_KEY; for an AWS KMS key the role needs kms:Sign and kms:GetPublicKey on it.'] : []),
  ];
}

/** `--sbom` and `--sign` attach to what a push put: a buildspec that pushes nothing, or pushes through Docker, cannot. */
export function refuseSupplyWithout(supply: BuildspecSupply | undefined, kind: string): void {
  const flag = supply?.sbom ? '--sbom' : supply?.sign ? '--sign' : undefined;
  if (flag) {
    throw new GamelayerError(
      'cli.needs-push',
      `codebuild buildspec ${kind} ${flag}: ${kind === '--pr-check' ? 'a pull-request check pushes nothing to attach an SBOM or signatures to' : 'the Docker builder has no SBOM or signing step'}`,
      'drop the flag, or use the daemonless buildspec (gamelayer codebuild buildspec)',
    );
  }
}

export interface BuildspecOptions {
  kind?: BuildspecKind;
  supply?: BuildspecSupply;
  /** The source root the build runs in (CODEBUILD_SRC_DIR); paths in the buildspec are relative to it. Default cwd. */
  sourceRoot?: string;
  /** Other AWS regions the build is pushed to as well (buildspec-regions.ts), after REPOSITORY_URI. */
  regionsAlso?: string[];
}

/**
 * IMAGE_TAG, unless the project or StartBuild set it: the first 8 characters of the source version CodeBuild resolved
 * (the commit; an S3 source's object version id) when they make a tag, as `gamelayer build` takes its default tag
 * (codebuild/environment.ts). An S3 version id may not (`3/L4kqtJ…+…`, S3's own example): it was the tag all the same,
 * and the build phase refused it (`build.bad-tag`); such a build is now tagged as one with no source version.
 */
export const SOURCE_TAG =
  'if [ -z "$IMAGE_TAG" ] && [[ "${CODEBUILD_RESOLVED_SOURCE_VERSION:0:8}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]]; then export IMAGE_TAG="${CODEBUILD_RESOLVED_SOURCE_VERSION:0:8}"; fi';

/** A region's imagedefinitions.json (`--region-also`): `imagedefinitions-eu-west-1.json`. */
export function regionImageDefinitions(region: string): string {
  return `imagedefinitions-${region}.json`;
}

/** Files the post_build phase writes; all become artifacts. */
export const ARTIFACTS = {
  imageDefinitions: 'imagedefinitions.json',
  buildRecord: 'gamelayer-build-record.json',
  diffReport: 'gamelayer-diff.txt',
  pullCostReport: 'gamelayer-pull-cost.txt',
  k8sDir: 'k8s-out',
} as const;

/**
 * `p` (the config, the state folder) as the buildspec names it: relative to the source root, with `/`. A path not
 * strictly inside the root is refused, since CodeBuild has only the checkout; a folder named `..x` is inside.
 */
export function sourceRelative(root: string, p: string, what: string): string {
  if (p === root || !isSameOrInside(root, p)) {
    throw new GamelayerError(
      'buildspec.outside-source',
      `${what} ${p} is outside the source root ${root}: CodeBuild only has the checked-out source`,
      'run gamelayer codebuild buildspec from the root of the repository that holds the game',
    );
  }
  return path.relative(root, p).split(path.sep).join('/');
}

/**
 * What the single and the batch buildspec's commands start from: the state folder as the buildspec names it, `gl`
 * (gamelayer on the game's config), the build's variables (GAMELAYER_CONFIG; REPOSITORY_URI when the game names a
 * registry) and the supply flags (supplyFlags, which adds the variables they need).
 */
export function buildspecStart(config: GameConfig, opts: { sourceRoot?: string; supply?: BuildspecSupply }) {
  const root = path.resolve(opts.sourceRoot ?? process.cwd());
  if (config.file === STDIN_CONFIG_NAME) {
    throw new GamelayerError('buildspec.config-stdin', `${config.file}: the buildspec names the config file CodeBuild runs gamelayer with, and a config read from stdin (-c -) has none`, 'pass the committed config: -c FILE');
  }
  const configFile = sourceRelative(root, config.file, 'the config');
  const stateDir = sourceRelative(root, config.stateDir, 'the state directory');
  const gl = (args: string) => `gamelayer -c "$GAMELAYER_CONFIG" ${args}`;
  const variables: Record<string, string> = { GAMELAYER_CONFIG: configFile };
  // The loader keeps `registry:` as the repository alone (a tag or digest written there dropped).
  if (config.registry) variables.REPOSITORY_URI = config.registry;
  return { stateDir, gl, variables, supply: supplyFlags(opts.supply, variables) };
}

export function buildspecObject(config: GameConfig, opts: BuildspecOptions = {}): Buildspec {
  const kind = opts.kind ?? 'daemonless';
  if (kind !== 'daemonless') refuseSupplyWithout(opts.supply, kind === 'docker' ? '--docker' : '--pr-check');
  const { stateDir, gl, variables, supply } = buildspecStart(config, opts);
  // The registry is the build state: a host with an empty .gamelayer/ plans on the newest record of its line there
  // and downloads no kept layer. No `cache:` either: the scan caches it held (file stats, archive listings) are
  // keyed by the source's absolute path and each file's inode and ctime, and CodeBuild checks the source out afresh
  // at another path every build, so none was ever used (test/buildspec.test.ts measures it) while S3 moved them.
  const regions = regionRepositories(opts.regionsAlso, kind === 'daemonless' ? undefined : kind === 'docker' ? '--docker' : '--pr-check');
  // The build plans on REPOSITORY_URI's line (the first --push); each other region gets the same images, and its own
  // deploy specs pinned to its copy.
  const alsoPush = regions.map((r) => ` --push "$${r.variable}"`).join('');
  const regionDeploy = regions.flatMap((r) => [
    gl(`k8s --repository "$${r.variable}" --out ${ARTIFACTS.k8sDir}/${r.region}`),
    gl(`codebuild imagedefinitions --repository "$${r.variable}" --out ${regionImageDefinitions(r.region)}`),
  ]);

  const install = {
    'on-failure': 'ABORT' as const,
    'runtime-versions': { nodejs: 20 },
    commands: ['npm ci --no-audit --no-fund', 'export PATH="$CODEBUILD_SRC_DIR/node_modules/.bin:$PATH"'],
  };
  const needRepository =
    'test -n "$REPOSITORY_URI" || { echo "REPOSITORY_URI is not set: set it on the CodeBuild project (host/path of the image repository)" >&2; false; }';
  // IMAGE_TAG set on the project or by StartBuild wins; a build with no usable source version (source NO_SOURCE, an
  // S3 version id that makes no tag) is tagged build-<number>, as `gamelayer build` tags it by default: `--tag ""`
  // was refused at the build phase.
  const tag = `${SOURCE_TAG}; export IMAGE_TAG="\${IMAGE_TAG:-build-$CODEBUILD_BUILD_NUMBER}"`;
  // Against the newest build of this line of work in the registry: a line with no build yet says so (exit 0); any
  // other failure (registry unreachable, damaged record) fails the phase instead of passing for "no earlier build".
  // No pull cost there: the host has no build yet (or a cached, stale one); post_build's report has it, to this build.
  const diff = `${gl('diff --against "$REPOSITORY_URI" --no-pull-cost')} > ${ARTIFACTS.diffReport}`;
  // The image to compare with in the registry (its build record travels with it): BASELINE_TAG when the project
  // or StartBuild sets one (say, the tag in production), else the commit before a webhook push, when it was built;
  // else the line's previous build, which the build planned on (`--previous`: the line's tag names this build by then).
  const baseline = 'export BASELINE_TAG="${BASELINE_TAG:-${CODEBUILD_WEBHOOK_PREV_COMMIT:0:8}}"';
  const pullCost = [
    `if [ -n "$BASELINE_TAG" ]; then ${gl('diff --against "$REPOSITORY_URI:$BASELINE_TAG" --if-exists')} > ${ARTIFACTS.pullCostReport}; ` +
      `else ${gl('diff --against "$REPOSITORY_URI" --previous --if-exists')} > ${ARTIFACTS.pullCostReport}; fi`,
    `cat ${ARTIFACTS.pullCostReport}`,
  ];

  if (kind === 'pr-check') {
    return checked({
      version: 0.2,
      env: { shell: 'bash', variables },
      phases: {
        install,
        build: {
          commands: [
            needRepository,
            'export IMAGE_TAG="pr-${CODEBUILD_BUILD_NUMBER:-local}"',
            // The line a merge lands on: the pull request's target branch.
            'export GAMELAYER_LINE="${GAMELAYER_LINE:-${CODEBUILD_WEBHOOK_BASE_REF#refs/heads/}}"',
            // No default baseline from CODEBUILD_WEBHOOK_PREV_COMMIT here: in a pull request it is a commit of the PR's
            // branch, never built into the registry. Without BASELINE_TAG the pull cost is against --previous.
            diff,
            `cat ${ARTIFACTS.diffReport}`,
            // A build into the local store, never pushed, on the target line's newest build in the registry: its
            // layer table says which layers a merge would push (built) and which the registry already has
            // (reused, not downloaded); the pull cost compares it with the baseline.
            gl('build --from "$REPOSITORY_URI" --tag "$IMAGE_TAG"'),
            ...pullCost,
          ],
        },
      },
      artifacts: { files: [ARTIFACTS.diffReport, ARTIFACTS.pullCostReport] },
    });
  }

  if (kind === 'docker') {
    // The Docker builder writes no build record (yet), so there is nothing to pin k8s specs or
    // imagedefinitions.json to, and no record in the registry to report a pull cost against.
    return checked({
      version: 0.2,
      env: { shell: 'bash', variables, 'exported-variables': ['IMAGE_TAG'] },
      phases: {
        install,
        pre_build: {
          'on-failure': 'ABORT',
          commands: [
            needRepository,
            tag,
            'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
            diff,
            `cat ${ARTIFACTS.diffReport}`,
          ],
        },
        build: { 'on-failure': 'ABORT', commands: [gl('build --builder docker --push "$REPOSITORY_URI" --tag "$IMAGE_TAG"')] },
      },
      artifacts: { files: [ARTIFACTS.diffReport] },
    });
  }

  return checked({
    version: 0.2,
    env: { shell: 'bash', variables, 'exported-variables': ['IMAGE_TAG'] },
    phases: {
      install,
      pre_build: { 'on-failure': 'ABORT', commands: [needRepository, ...regions.map(regionRepositoryLine), tag, baseline, diff, `cat ${ARTIFACTS.diffReport}`] },
      build: { 'on-failure': 'ABORT', commands: [gl(`build --push "$REPOSITORY_URI"${alsoPush} --tag "$IMAGE_TAG"${supply}`)] },
      post_build: {
        commands: [
          gl(`k8s --repository "$REPOSITORY_URI" --out ${ARTIFACTS.k8sDir}`),
          gl(`codebuild imagedefinitions --repository "$REPOSITORY_URI" --out ${ARTIFACTS.imageDefinitions}`),
          ...regionDeploy,
          `cp ${shellWord(`${stateDir}/records/${lastBuildName(config.stateDir, config.store)}`)} ${ARTIFACTS.buildRecord}`,
          ...pullCost,
        ],
      },
    },
    artifacts: {
      files: [ARTIFACTS.imageDefinitions, ...regions.map((r) => regionImageDefinitions(r.region)), ARTIFACTS.buildRecord, ARTIFACTS.diffReport, ARTIFACTS.pullCostReport, `${ARTIFACTS.k8sDir}/**/*`],
    },
  });
}

const HEADERS: Record<BuildspecKind, string[]> = {
  daemonless: [
    'Daemonless: builds the layers with gamelayer itself (no Docker) and pushes only the blobs the registry lacks,',
    'then the build record beside the image. Works on an empty host: the previous build is the newest record of the',
    'branch (line of work) in the registry, and the layers it keeps are never downloaded. Optional BASELINE_TAG: an',
    'earlier image to report the pull cost against (default: the commit before a webhook push, else the branch\'s',
    'previous build). Project settings: environment variable REPOSITORY_URI (host/path of the image repository); a',
    'role that may push to it. No cache: the source is checked out afresh every build, so no file stat carries over',
    '(each build hashes every file), and the registry holds the build state.',
  ],
  docker: [
    'Docker daemon path: gamelayer writes the Dockerfile and builds through the daemon, then pushes.',
    'Project settings: privileged mode on (Docker in the build container); environment variable REPOSITORY_URI',
    '(an ECR repository URI); a role allowed ecr:GetAuthorizationToken and to push; no cache, as for buildspec.yml.',
    'The Docker builder writes no build record, so no k8s spec or imagedefinitions.json: use buildspec.yml for those.',
  ],
  'pr-check': [
    'Pull-request check: prints what changed since the newest build of the target branch in REPOSITORY_URI, which',
    'layers a merge would push, and what nodes running BASELINE_TAG (default: that newest build) would pull.',
    'Pushes nothing.',
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
    ...(kind === 'pr-check'
      ? []
      : [
          ' The image tag is IMAGE_TAG when the project or StartBuild sets it, else the first 8 characters of the commit',
          ' CodeBuild resolved (CODEBUILD_RESOLVED_SOURCE_VERSION), else build-<CODEBUILD_BUILD_NUMBER> (no commit: an S3 source).',
        ]),
    ...supplyHeader(opts.supply),
    ...regionsHeader(opts.regionsAlso),
  ].join('\n');
  return yamlText(doc, { lineWidth: 0, indent: 2, indentSeq: true });
}

/** The header lines of a buildspec that pushes to other regions too. */
function regionsHeader(regions: string[] | undefined): string[] {
  const list = regionRepositories(regions, undefined);
  if (!list.length) return [];
  return [
    ` Also pushed to ${list.map((r) => r.region).join(', ')} (docs/regions.md): REPOSITORY_URI_<REGION>, unless set on the project, is`,
    " REPOSITORY_URI's account and name in that region; ECR replication rules covering a region push once and wait for",
    ` the copy. Each region gets ${ARTIFACTS.k8sDir}/<region>/ and imagedefinitions-<region>.json. The role needs the push`,
    " actions on every region's repository.",
  ];
}

function checked(spec: Buildspec): Buildspec {
  // Our own output must be a valid buildspec; a failure here is a bug, not a user error. The object itself is
  // returned (not zod's copy) so keys keep the order they are written in.
  buildspecSchema.parse(spec);
  return spec;
}
