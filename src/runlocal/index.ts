// gamelayer run-local as a library: the emitted pod, run on the local Docker engine.
export { runLocal, localRepository, type RunLocalOptions, type RunLocalResult } from './run-local.js';
export { runPlan, podSpecOf, type RunPlan, type PlannedContainer, type PlannedVolume, type PlannedMount, type RunPlanOptions } from './plan.js';
export { executePlan, leftoverCommands, RUN_LABEL, GAME_LABEL, CONTAINER_LABEL, type ExecuteOptions, type ExecuteResult, type ContainerOutcome } from './execute.js';
export { ensureTreeImages, type DaemonImages } from './images.js';
export { prefixedLogSink, type LogSink, type LogStream } from './logs.js';
export { durationMs, envEntry, portNumber } from './options.js';
export { leftoverFailure, removeLeftovers, removeLeftoversCommand, type LeftoverRemoval } from './leftovers.js';
export { OWNER_LABEL, ownerAliveReason, ownerPlace, type OwnerPlace } from './run-owner.js';
