// Deployment specs as plain data (Kubernetes, Agones) and their text; ECS lives in src/ecs/.
export * from './fill.js';
export * from './input.js';
export * from './options.js';
export * from './output.js';
export * from './pod.js';
export * from './scripts.js';
export * from './sizes.js';
export * from './workloads.js';
