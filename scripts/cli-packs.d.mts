// Types of scripts/cli-packs.mjs for the tests (the build scripts are plain JavaScript).
export interface BundleOutput {
  entryPoint?: string;
  imports: { path: string; kind: string; external?: boolean }[];
}
export const PACK_HEADS: string[];
export function makePacks(files: Map<string, string>, outputs: Record<string, BundleOutput>, headSources?: string[]): Map<string, string>;
