// Before any test: compile src/ to dist/ when the sources changed since the last compile (a content hash), so the
// CLI the tests run (bin/gamelayer.js → dist/) is always the current code; give the run a temp folder in memory; and
// remove the Docker images the tests listed once every file is done (docker-cleanup.ts says why not before).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGES_TO_REMOVE, removeListedImages } from './docker-cleanup.js';
import { useMemoryTempFolder } from './memory-tmp.js';

export default function setup(): () => void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/build-dist.mjs'), '--if-changed'], { stdio: 'inherit' });
  const removeTempFolder = useMemoryTempFolder();
  const listDir = mkdtempSync(path.join(os.tmpdir(), 'gl-test-images-'));
  process.env[IMAGES_TO_REMOVE] = path.join(listDir, 'images.txt');
  return () => {
    removeListedImages(process.env[IMAGES_TO_REMOVE]!);
    rmSync(listDir, { recursive: true, force: true });
    delete process.env[IMAGES_TO_REMOVE];
    removeTempFolder();
  };
}
