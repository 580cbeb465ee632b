// The batch buildspec (`gamelayer codebuild buildspec --batch`) of a game with several platforms: a CodeBuild
// build graph with one job per platform, each on a host of that architecture, building and pushing its platform
// (`build --platform P --push`), and a merge job that depends on all of them and runs `gamelayer index`, then writes
// the deploy artifacts. One file: every job runs its phases, which branch on the job's GAMELAYER_PLATFORM.
// No media job: the platform jobs plan the shared media trees on the same record from the same sources, so the
// second finds their blobs in the repository and sends none of them (docs/codebuild.md). With --region-also every
// platform job pushes to each region's repository too (the media stripes split in each), and the merge job merges in
// each repository and writes each region's deploy artifacts (docs/regions.md).
// The last build into the config's store: its own pointer when the store is not the default (state/last-build.ts).
import { lastBuildName } from '../state/last-build.js';
import { Document } from 'yaml';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { ARTIFACTS, buildspecStart, regionImageDefinitions, SOURCE_TAG, supplyHeader, type BuildspecSupply } from './buildspec.js';
import { regionRepositories, regionRepositoryLine } from './buildspec-regions.js';
import { buildspecSchema, type Buildspec } from './buildspec-schema.js';
import { shellWord } from '../util/shell-word.js';
import { yamlText } from '../util/yaml-text.js';

/** The CodeBuild environment of a platform's job: ARM containers for arm64 (Graviton), Linux (x86_64) for amd64. */
export const PLATFORM_ENVIRONMENTS: Record<string, { type: 'LINUX_CONTAINER' | 'ARM_CONTAINER'; image: string }> = {
  'linux/amd64': { type: 'LINUX_CONTAINER', image: 'aws/codebuild/amazonlinux2-x86_64-standard:5.0' },
  'linux/arm64': { type: 'ARM_CONTAINER', image: 'aws/codebuild/amazonlinux2-aarch64-standard:3.0' },
  'linux/arm64/v8': { type: 'ARM_CONTAINER', image: 'aws/codebuild/amazonlinux2-aarch64-standard:3.0' },
};
const PLATFORM_COMPUTE = 'BUILD_GENERAL1_LARGE';
/** The merge job only reads records and puts a few small documents. */
const MERGE_COMPUTE = 'BUILD_GENERAL1_SMALL';
/** Where every job writes its artifacts (a platform job its record, the merge job the deploy files). */
export const BATCH_OUT = 'gamelayer-out';

export function jobIdentifier(platform: string): string {
  return `build_${platform.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export interface BatchBuildspecOptions {
  sourceRoot?: string;
  /** Each platform build attaches its SBOM and signs its images; the merge job signs the indexes it puts. */
  supply?: BuildspecSupply;
  /** Other AWS regions every job pushes to or merges in as well (buildspec-regions.ts), after REPOSITORY_URI. */
  regionsAlso?: string[];
}

export function batchBuildspecObject(config: GameConfig, opts: BatchBuildspecOptions = {}): Buildspec {
  if (config.platforms.length < 2) {
    throw new GamelayerError(
      'buildspec.platforms',
      `${config.file}: platforms: ${config.platforms.join(', ')}: a batch build has one job per platform; this game has one`,
      'list several platforms (platforms: [linux/amd64, linux/arm64]) or use the single-build buildspec',
    );
  }
  for (const p of config.platforms) {
    if (!PLATFORM_ENVIRONMENTS[p]) {
      throw new GamelayerError('buildspec.platforms', `${config.file}: platform ${p}: CodeBuild has no build host for it`, `CodeBuild hosts: ${Object.keys(PLATFORM_ENVIRONMENTS).join(', ')}`);
    }
  }
  const { stateDir, gl, variables, supply } = buildspecStart(config, opts);
  const regions = regionRepositories(opts.regionsAlso, undefined);
  const repositories = ['REPOSITORY_URI', ...regions.map((r) => r.variable)];
  const index = repositories.map((v) => gl(`index "$${v}" --tag "$IMAGE_TAG"${opts.supply?.sign ? ' --sign "$GAMELAYER_SIGN_KEY"' : ''}`)).join(' && ');
  const regionDeploy = regions.map(
    (r) =>
      `${gl(`k8s --repository "$${r.variable}" --out ${BATCH_OUT}/${ARTIFACTS.k8sDir}/${r.region}`)} && ` +
      `${gl(`codebuild imagedefinitions --repository "$${r.variable}" --out ${BATCH_OUT}/${regionImageDefinitions(r.region)}`)} && `,
  );
  const jobs = config.platforms.map((p) => ({
    identifier: jobIdentifier(p),
    env: { type: PLATFORM_ENVIRONMENTS[p]!.type, 'compute-type': PLATFORM_COMPUTE, image: PLATFORM_ENVIRONMENTS[p]!.image, variables: { GAMELAYER_PLATFORM: p } },
  }));
  const merge = {
    identifier: 'merge',
    env: { type: 'LINUX_CONTAINER' as const, 'compute-type': MERGE_COMPUTE, image: PLATFORM_ENVIRONMENTS['linux/amd64']!.image, variables: { GAMELAYER_PLATFORM: '' } },
    'depend-on': jobs.map((j) => j.identifier),
  };
  const spec: Buildspec = {
    version: 0.2,
    batch: { 'fast-fail': true, 'build-graph': [...jobs, merge] },
    env: { shell: 'bash', variables, 'exported-variables': ['IMAGE_TAG'] },
    phases: {
      install: {
        'on-failure': 'ABORT',
        'runtime-versions': { nodejs: 20 },
        commands: ['npm ci --no-audit --no-fund', 'export PATH="$CODEBUILD_SRC_DIR/node_modules/.bin:$PATH"'],
      },
      pre_build: {
        'on-failure': 'ABORT',
        commands: [
          'test -n "$REPOSITORY_URI" || { echo "REPOSITORY_URI is not set: set it on the CodeBuild project (host/path of the image repository)" >&2; false; }',
          ...regions.map(regionRepositoryLine),
          // Every job of the batch builds the same commit: the same tag, which the merge job gives the indexes. With
          // no usable source version the jobs share nothing to name the build by (each has its own build number):
          // IMAGE_TAG must then come from StartBuildBatch, and its absence stops the job here, not at `--tag ""`.
          SOURCE_TAG,
          'test -n "$IMAGE_TAG" || { echo "IMAGE_TAG is not set and CodeBuild resolved no commit (CODEBUILD_RESOLVED_SOURCE_VERSION): start the batch with IMAGE_TAG set (gamelayer codebuild start --batch --env IMAGE_TAG=...)" >&2; false; }',
          `mkdir -p ${BATCH_OUT}`,
        ],
      },
      build: {
        'on-failure': 'ABORT',
        commands: [
          `if [ -n "$GAMELAYER_PLATFORM" ]; then ${gl(`build --platform "$GAMELAYER_PLATFORM"${repositories.map((v) => ` --push "$${v}"`).join('')} --tag "$IMAGE_TAG" --media-wait 5m${supply}`)}; ` +
            `else ${index}; fi`,
        ],
      },
      post_build: {
        commands: [
          `if [ -n "$GAMELAYER_PLATFORM" ]; then cp ${shellWord(`${stateDir}/records/${lastBuildName(config.stateDir, config.store)}`)} ${BATCH_OUT}/${ARTIFACTS.buildRecord}; ` +
            `else ${gl(`k8s --repository "$REPOSITORY_URI" --out ${BATCH_OUT}/${ARTIFACTS.k8sDir}`)} && ` +
            `${gl(`codebuild imagedefinitions --repository "$REPOSITORY_URI" --out ${BATCH_OUT}/${ARTIFACTS.imageDefinitions}`)} && ` +
            regionDeploy.join('') +
            `cp ${shellWord(`${stateDir}/records/${lastBuildName(config.stateDir, config.store)}`)} ${BATCH_OUT}/${ARTIFACTS.buildRecord}; fi`,
        ],
      },
    },
    artifacts: { files: ['**/*'], 'base-directory': BATCH_OUT },
  };
  // Our own output must be a valid buildspec; a failure here is a bug.
  buildspecSchema.parse(spec);
  return spec;
}

export function emitBatchBuildspec(config: GameConfig, opts: BatchBuildspecOptions = {}): string {
  const spec = batchBuildspecObject(config, opts);
  const doc = new Document(spec, { aliasDuplicateObjects: false });
  doc.commentBefore = [
    ` AWS CodeBuild batch buildspec for ${config.game} (${spec.env?.variables?.GAMELAYER_CONFIG}), written by \`gamelayer codebuild buildspec --batch\`.`,
    ` One job per platform (${config.platforms.join(', ')}) on a host of that architecture builds and pushes its platform`,
    ' (gamelayer build --platform P --push, tagged <tag>-<os>-<arch>); the merge job, once they all succeeded, puts the',
    ' multi-platform indexes and the merged build record (gamelayer index) and writes k8s specs and imagedefinitions.json.',
    ' Project settings: batch builds on (a batch service role), environment variable REPOSITORY_URI, a role that may push.',
    ' Start it with: gamelayer codebuild start --project P --batch --watch',
    ...supplyHeader(opts.supply),
    ...(opts.regionsAlso?.length
      ? [
          ` Also pushed to ${opts.regionsAlso.join(', ')} (docs/regions.md): REPOSITORY_URI_<REGION>, unless set on the project, is`,
          " REPOSITORY_URI's account and name in that region. Each platform job pushes to every region (the shared media",
          ' split in each), the merge job merges in each and writes k8s-out/<region>/ and imagedefinitions-<region>.json.',
        ]
      : []),
  ].join('\n');
  return yamlText(doc, { lineWidth: 0, indent: 2, indentSeq: true });
}
