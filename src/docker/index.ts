// The Docker daemon path: build the emitted Dockerfiles, load store images, all through dockerode.
export { buildWithDocker, type DockerBuildOptions, type DockerBuildResult, type DockerBuiltImage } from './daemon-build.js';
export { connectDocker, daemonAddress, daemonError, daemonInfo, type DaemonInfo } from './daemon.js';
export { defaultLoadTag, dockerRepository, loadBuild, loadImages, type LoadBuildOptions, type LoadedImage, type LoadImagesOptions } from './load.js';
export { dockerSaveStream, resolveSaveImages, type SaveImage } from './save-format.js';
