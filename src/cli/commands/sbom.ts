// gamelayer sbom: prints the CycloneDX SBOM attached to an image (checked against its digest, schema and image).
import type { Command } from 'commander';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { firstMissingFolder, removeEmptyFolders } from '../../util/created-folders.js';
import { assertOutFile, assertOutFolder } from '../../util/fs-access.js';
import { refuseNonSbomFile } from '../../util/generated-file.js';
import { pipeline } from 'node:stream/promises';
import { commandReporter, configPath, refuseOutInTrees } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface SbomFlags extends RegistryFlags {
  out?: string;
  key?: string;
  force?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('sbom')
    .description('print the CycloneDX SBOM attached to an image (build --push REPO --sbom attaches one)')
    .argument('<ref>', 'the image: host[:port]/repo:tag or host[:port]/repo@sha256:…')
    .option('-o, --out <file>', 'write the SBOM to this file instead of stdout (missing folders are created)')
    .option('--key <key>', 'print it only when it is signed by this key (PEM public key or awskms:///ARN)')
    .option('--force', 'with -o: replace a file that is not an SBOM (gamelayer.yaml, notes of your own)')
    .action(async (ref: string, flags: SbomFlags, c: Command) => {
      const options = await registryOptions(flags);
      // A folder or an impossible path for -o was an error[internal] (EISDIR, ENOENT) after the download.
      const out = flags.out === undefined ? undefined : path.resolve(flags.out);
      if (out) {
        await refuseOutInGameTrees(c, flags.out!);
        await assertOutFolder(path.dirname(out), '--out');
        await assertOutFile(out, '--out');
        // Before the download: a file of the user's is never replaced by surprise (as dockerfile, k8s, codebuild --out).
        await refuseNonSbomFile(out, flags.force);
      }
      const { withTempFile } = await import('../../sbom/attach.js');
      // Downloaded into a temp file and checked there (digest first) before a byte of it is printed: a 1M-file
      // game's SBOM is about 270 MB, never held whole.
      await withTempFile(async (file) => {
        let found;
        if (flags.key) {
          const { publicKeyFor } = await import('../../sign/keys.js');
          const { fetchSignedSbomFile } = await import('../../supply/image-signatures.js');
          found = await fetchSignedSbomFile({ ...options, ref, key: await publicKeyFor(flags.key), file });
        } else {
          const { fetchSbomFile } = await import('../../sbom/attach.js');
          // An image with several SBOMs is refused (sbom/one-sbom.ts): which one is the image's cannot be told.
          found = await fetchSbomFile(ref, file, options);
        }
        if (out) {
          await copyOut(file, out!);
          commandReporter(false).info(`SBOM ${found.digest} of ${found.subject} (found via ${found.via}) written to ${flags.out}`);
        } else {
          await pipeline(createReadStream(file), process.stdout, { end: false });
          process.stdout.write('\n');
        }
      });
    });
  addRegistryOptions(cmd, 'existing');
}

/**
 * sbom needs no config, but where there is one (gamelayer.yaml here, or --config) -o must not write into its trees.
 * A config that does not load is that command's problem, not this one's: no trees are known then.
 */
async function refuseOutInGameTrees(c: Command, out: string): Promise<void> {
  const file = configPath(c);
  const { loadConfig, STDIN_CONFIG } = await import('../../config/load.js');
  if (file !== STDIN_CONFIG && !existsSync(file)) return;
  const config = await loadConfig(file).catch(() => undefined);
  if (config) await refuseOutInTrees(config, out, '--out', 'file');
}

/**
 * The checked SBOM to `out` as every --out is written (temp file, fsync, rename: a failed copy, a full disk say, leaves
 * no half-written SBOM), its missing folders created as `k8s --out` does; folders it made are removed again on failure.
 */
async function copyOut(file: string, out: string): Promise<void> {
  const created = await firstMissingFolder(path.dirname(out));
  try {
    await writeFileAtomic(out, (tmp) => copyFile(file, tmp));
  } catch (e) {
    if (created) await removeEmptyFolders(path.dirname(out), created);
    throw new GamelayerError('deploy.write', `${out}: cannot write: ${(e as Error).message}`, undefined, { cause: e });
  }
}
