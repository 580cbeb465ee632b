// AWS CodeBuild: run gamelayer inside it (environment, buildspecs, imagedefinitions) and drive it from outside
// (start, watch, stop builds).
export { codebuildEnvironment, type CodebuildEnvironment } from './environment.js';
export { codebuildClient, ENDPOINT_ENV, isThrottling, type CodebuildClientOptions } from './client.js';
export {
  startBuild,
  stopBuild,
  watchBuild,
  failingPhase,
  buildFailure,
  logsUrl,
  parseEnvFlags,
  formatWatchEvent,
  type StartBuildOptions,
  type WatchOptions,
  type WatchEvent,
} from './builds.js';
export { emitBuildspec, buildspecObject, ARTIFACTS, type BuildspecKind, type BuildspecOptions } from './buildspec.js';
export { buildspecSchema, parseBuildspec, PHASE_NAMES, type Buildspec } from './buildspec-schema.js';
export { imageDefinitions, imageDefinitionsJson, writeImageDefinitions, type ImageDefinition } from './imagedefinitions.js';
export { parseDuration, formatSeconds } from './duration.js';
export { startBuildBatch, stopBuildBatch, watchBuildBatch, batchFailure, formatBatchEvent, isBatchArn, type BatchWatchEvent, type WatchBatchOptions, type WatchedBatch } from './batch.js';
export { batchBuildspecObject, emitBatchBuildspec, jobIdentifier, PLATFORM_ENVIRONMENTS, type BatchBuildspecOptions } from './batch-buildspec.js';
export { batchSchema, type BatchSection } from './batch-schema.js';
