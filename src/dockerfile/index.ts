// Dockerfiles for the docker / CodeBuild path and their deterministic build context.
export { dockerBaseImage, dockerignore, emitDockerfiles, serverDockerfile, treeImageDockerfile, type DockerfileInput, type DockerTree, type EmitOptions, type EmittedFile } from './emit.js';
export { dockerContext, type BuildContext, type ContextOptions } from './context.js';
export { dockerGame, pickPlatform, type DockerGame, type DockerGameOptions } from './game.js';
export * from './layout.js';
