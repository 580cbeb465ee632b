// Images the tests made or pulled are removed once the whole run is over (global-setup.ts's teardown), not by each
// file as it ends: the legacy builder's cache lookup lists the daemon's images (every image without a parent, for a
// `FROM scratch` stage: loaded and pulled ones too), and one that another file removed between that listing and its
// use failed the build "unable to find image sha256:…" (CI after stop 47, and again in stop 48 with the retry
// hiding it from all but a test of docker's cache).
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';

/** The file that lists the images to remove at the end of the run; set by global-setup.ts for the workers. */
export const IMAGES_TO_REMOVE = 'GL_TEST_IMAGES_TO_REMOVE';

/** Removes `refs` (image names) from the Docker daemon after the run; at once, keeping parents, outside vitest's run. */
export function removeImagesAfterRun(refs: readonly string[]): void {
  if (refs.length === 0) return;
  const list = process.env[IMAGES_TO_REMOVE];
  if (list) appendFileSync(list, refs.map((r) => `${r}\n`).join(''));
  else spawnSync('docker', ['rmi', '-f', '--no-prune', ...refs], { stdio: 'ignore' });
}

/** The run's teardown: every image listed, removed (with the untagged parents nothing else uses any more). */
export function removeListedImages(list: string): void {
  let refs: string[];
  try {
    refs = [...new Set(readFileSync(list, 'utf8').split('\n').filter(Boolean))];
  } catch {
    return;
  }
  for (let i = 0; i < refs.length; i += 100) spawnSync('docker', ['rmi', '-f', ...refs.slice(i, i + 100)], { stdio: 'ignore' });
}
