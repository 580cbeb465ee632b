#!/usr/bin/env node
// Runs the prebuilt bundle (dist/, made by `npm ci` via scripts/build-dist.mjs) when it is newer than every
// source file, else the TypeScript sources through tsx: a stale bundle never runs.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  if (process.env.GAMELAYER_FROM_SOURCE) return false;
  try {
    const { sourceMtime } = JSON.parse(readFileSync(path.join(root, 'dist/stamp.json'), 'utf8'));
    return sourceMtime >= newestMtime(path.join(root, 'src'));
  } catch {
    return false;
  }
}

if (bundleIsFresh()) {
  await import('../dist/cli.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
