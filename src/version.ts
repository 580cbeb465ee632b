// gamelayer's own version (package.json), for documents that name their producer (SBOM, signatures).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function gamelayerVersion(): string {
  if (cached) return cached;
  // src/version.ts and the bundle dist/*.js both sit one folder below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  cached = pkg.version ?? '0.0.0';
  return cached;
}
