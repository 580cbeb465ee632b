// The library: everything the CLI does, as typed functions.
export * from './types.js';
export { GamelayerError, isGamelayerError } from './errors.js';
export { loadConfig, parseConfig, treeSourceFor, CONFIG_FILE, type GameConfig, type TreeConfig } from './config/load.js';
export { parseSize } from './config/schema.js';
export { silentReporter, plainReporter, ttyReporter, defaultReporter, formatBytes, type Reporter, type ProgressTask } from './report/reporter.js';
export { scanTree, scanGame, resolveSource, type ScanOptions, type TreeScan, type TreeScanStats, type GameScan } from './scan/scan.js';
export { makeManifest, entriesDigest, normalizeMode, compareBytewise, treeBytes } from './scan/manifest.js';
export { diffManifests, diffEntries, hasChanges, type TreeDiff } from './diff/diff.js';
export { readRecord, latestRecord, saveScanRecord, type ScanRecord, type AnyRecord } from './state/records.js';
export { planLayers, layerInputKey, oversizedLayers, type PlanOptions } from './plan/plan.js';
export * from './registry/index.js';
export { k8sWorkload, deployInputFrom, loadDeployInput, fillManifests, kustomizeImages, type DeployInput } from './k8s/index.js';
export { ecsTaskDefinition } from './ecs/task-definition.js';
export * from './dockerfile/index.js';
export * from './docker/index.js';
export * from './codebuild/index.js';
export * from './runlocal/index.js';
