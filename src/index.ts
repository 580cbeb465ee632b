// The library: everything the CLI does, as typed functions.
export * from './types.js';
export { GamelayerError, isGamelayerError } from './errors.js';
export { ERROR_CODES, EXIT, exitStatusOf, isErrorCode, awsErrorCode, type ErrorCode, type KnownErrorCode } from './error-codes.js';
export { loadConfig, parseConfig, treeSourceFor, CONFIG_FILE, type GameConfig, type TreeConfig } from './config/load.js';
export { parseSize } from './config/schema.js';
export { silentReporter, plainReporter, ttyReporter, defaultReporter, closeReporters, formatBytes, formatRate, formatDuration, type Reporter, type ProgressTask, type TaskOptions } from './report/reporter.js';
export { scanTree, scanGame, resolveSource, type ScanOptions, type TreeScan, type TreeScanStats, type GameScan } from './scan/scan.js';
export { makeManifest, entriesDigest, normalizeMode, compareBytewise, treeBytes } from './scan/manifest.js';
export { diffManifests, diffEntries, hasChanges, type TreeDiff } from './diff/diff.js';
export { readRecord, latestRecord, saveScanRecord, type ScanRecord, type AnyRecord } from './state/records.js';
export { planLayers, layerInputKey, oversizedLayers, type PlanOptions } from './plan/plan.js';
export * from './registry/index.js';
export { findRegistryPrevious, defaultLine, startPreviousLookup, type PreviousLookup, type RegistryPrevious } from './pipeline/steps/previous.js';
export { k8sWorkload, deployInputFrom, loadDeployInput, fillManifests, kustomizeImages, type DeployInput } from './k8s/index.js';
export { ecsTaskDefinition } from './ecs/task-definition.js';
export { ecsOptionsFromConfig } from './ecs/from-deploy.js';
export * from './dockerfile/index.js';
export * from './docker/index.js';
export * from './codebuild/index.js';
export * from './runlocal/index.js';
// Build and push, as `gamelayer build [--push]` does them.
export { build, type BuildOptions, type BuildResult, type BuildSummary, type LayerOutcome } from './pipeline/build.js';
export { pushBuild, type PushBuildOptions, type PushBuildResult } from './pipeline/steps/push.js';
export { pushBuildToMany, type PushBuildToManyOptions, type PushBuildToManyResult, type PushDestination, type TargetOutcome } from './pipeline/steps/push-many.js';
export { regionalRepository, type RegionalPin } from './k8s/regional.js';
export { readBuildRecord, writeRecord, recordsDir, LAST_BUILD, LAST_SCAN } from './state/records.js';
// The image stage: the image model (sources: the layout, a registry, a base image, a build; sinks: the store, a
// registry, the Docker daemon), the local OCI layout, base images, layers.
export { blobsOf, childManifests, descriptorOf, missingBlobs, pickPlatform, platformImages, uniqueBlobs, type AnyImage, type Image, type ImageBlob, type ImageIndexModel, type ImageManifest, type IndexDocument, type Layer, type Platform } from './oci/model.js';
export { blobPath, layoutBlob, layoutTags, readLayoutIndex, REF_NAME, type ReadLayoutOptions } from './oci/layout.js';
export { readRegistryImage, registryBlob } from './registry/image-source.js';
export { writeImagesToDaemon, daemonPlatform } from './docker/load.js';
export { OciStore, type OpenStoreOptions, type ImageIndex } from './oci/store.js';
export { loadBaseImage, parseBaseRef, type BaseImage, type BaseRef, type LoadBaseOptions } from './oci/base-image.js';
export { layerTar, packEntries, sourceDateEpoch, type PackEntry } from './oci/tar.js';
export { closeGzipWorkers } from './oci/gzip.js';
export { closeZstdWorkers } from './oci/zstd.js';
export { TREE_SENTINEL, sentinelBytes } from './oci/sentinel.js';
// Planning and comparing.
export { planIncremental, type IncrementalPlan, type IncrementalOptions, type PreviousTree } from './plan/incremental.js';
export { layerDiff, type LayerDiff, type LayerChange, type BaseLayerCount } from './plan/layer-diff.js';
export { pullCost, type PullCost, type ImagePullCost } from './diff/pull-cost.js';
// Chunked trees (docs/chunks.md): the chunker, the recipe format, the manifest transform, and their diff.
export { Chunker, chunkSizes, chunkLengths, type ChunkSizes } from './chunk/fastcdc.js';
export { parseRecipe, formatRecipe, chunkPath, recipePath, type Recipe, type RecipeChunk } from './chunk/recipe.js';
export { chunkTree, chunkTrees, chunkFile, scanGameChunked, type ChunkConfig, type ChunkList, type ChunkSources, type ChunkedTreeScan } from './scan/chunk-tree.js';
export { chunkDiff, chunkPullCost, type ChunkDiff, type ChunkPullCost } from './diff/chunks.js';
export { workingTrees, sideFromArg, lastRecordedSide, type DiffSide } from './diff/states.js';
export { mergePlatformBuilds, platformTag, type MergeIndexOptions, type MergeIndexResult } from './registry/merge-index.js';
export { listReferrers, pushReferrer, referrerArtifact, referrersTag, type PushReferrerResult, type Referrers } from './registry/referrers.js';
export { makeSbom, validateSbom, treeFiles, SBOM_MEDIA_TYPE, type Sbom, type SbomInput, type SbomRecord, type BaseImageInfo } from './sbom/cyclonedx.js';
export { makeBuildSbom, pushSbom, fetchSbom, SBOM_ARTIFACT_TYPE, type FoundSbom } from './sbom/attach.js';
export { signerFor, publicKeyFor, isKmsKey, KMS_ENDPOINT_ENV, KEY_PASSWORD_ENV, type Signer, type KmsOptions } from './sign/keys.js';
export { signManifest, verifyManifest, signatureTag, SIMPLESIGNING_MEDIA_TYPE, SIGNATURE_ANNOTATION, type SignResult, type VerifyManifestResult } from './sign/cosign.js';
export { simpleSigningPayload, parseSimpleSigning, COSIGN_SIGNATURE_TYPE, type SimpleSigning } from './sign/payload.js';
export { signImage, verifyImage, fetchSignedSbom, type SignImageResult, type VerifyImageResult } from './supply/image-signatures.js';
export { attachSupplyChain, type AttachOptions, type AttachResult } from './supply/build-attach.js';
export { gamelayerVersion } from './version.js';
export { onRetry, formatRetry, type RetryNotice } from './report/retries.js';
export { checkSources } from './scan/scan.js';
export { detectLayout, type InitProposal, type LayoutKind, type TreeProposal } from './init/detect.js';
export { initGame, renderConfig, type InitOptions, type InitResult } from './init/write.js';
export { listLocal, localBuilds, localBuild, localBuildSummaries, localBuildSummary, imageSize, type LocalTagRow, type LocalBuild, type LocalBuildSummary, type BuildRecordSummary } from './inventory/local.js';
export { listRemote, type RemoteTagRow } from './inventory/remote.js';
export { inspectRecord, buildTags, type InspectView, type LayerStatus } from './inventory/inspect.js';
export { gcStore, type GcOptions, type GcResult } from './inventory/gc.js';
export { holdStoreForBuild, lockStoreForGc } from './oci/store-holds.js';
export { pruneRepository, deleteManifest, lifecyclePolicy, putLifecyclePolicy, type PruneOptions, type PruneResult } from './registry/prune.js';
