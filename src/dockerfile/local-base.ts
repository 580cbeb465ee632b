// A local base image (oci:DIR, oci-archive:FILE, docker-archive:FILE) has no name a Docker daemon knows: the emitted
// Dockerfiles call it gamelayer-base/<game>:<hash>, which only `build --builder docker` loads under that name.
// `gamelayer dockerfile --context - | docker build -` then looked the name up on Docker Hub ("no such host", "pull
// access denied") while the Dockerfile's comment said the base was loaded. This says what to run first.
import { parseBaseRef } from '../oci/base-image.js';
import { shellWord } from '../util/shell-word.js';

/** How to put the local base into the daemon under `image` (the Dockerfiles' name for it). */
export function loadLocalBaseHint(baseImage: string, image: string, configDir: string): string {
  const ref = parseBaseRef(baseImage, configDir);
  const load =
    ref.kind === 'docker-archive'
      ? `docker load -i ${shellWord(ref.file)}, then docker tag <the image it loaded> ${image}`
      : ref.kind === 'oci' || ref.kind === 'oci-archive'
        ? `skopeo copy ${shellWord(`${ref.kind}:${ref.kind === 'oci' ? ref.dir : ref.file}${ref.tag ? `:${ref.tag}` : ''}`)} docker-daemon:${image}`
        : undefined;
  return `${load ? `${load}; ` : ''}gamelayer build --builder docker loads it so itself, or pass --build-arg BASE_IMAGE=<an image the daemon has>`;
}
