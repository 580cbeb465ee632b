// gamelayer's own package: its version (package.json), for documents that name their producer (SBOM, signatures),
// and its folder (the README a hint points at).
import { readFileSync } from 'node:fs';

interface OwnPackage {
  root: URL;
  version: string;
}

let cached: OwnPackage | undefined;

/**
 * package.json is one folder above this module in src/ and dist/, two above it in the CLI bundle
 * (dist/cli-bundle/, where this code sits in a chunk): the first of the two that is gamelayer's.
 */
function ownPackage(): OwnPackage {
  if (cached) return cached;
  for (const up of ['../', '../../']) {
    const root = new URL(up, import.meta.url);
    let pkg: { name?: string; version?: string };
    try {
      pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as typeof pkg;
    } catch {
      continue;
    }
    if (pkg.name === 'gamelayer') return (cached = { root, version: pkg.version ?? '0.0.0' });
  }
  throw new Error(`gamelayer's package.json is not one or two folders above ${import.meta.url}`);
}

export function gamelayerVersion(): string {
  return ownPackage().version;
}

/** The folder of gamelayer's package.json (a checkout, or the installed package). */
export function gamelayerRoot(): URL {
  return ownPackage().root;
}
