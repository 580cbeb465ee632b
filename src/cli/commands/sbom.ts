// gamelayer sbom: prints the CycloneDX SBOM attached to an image (checked against its digest, schema and image).
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface SbomFlags extends RegistryFlags {
  out?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('sbom')
    .description('print the CycloneDX SBOM attached to an image (build --push REPO --sbom attaches one)')
    .argument('<ref>', 'the image: host[:port]/repo:tag or host[:port]/repo@sha256:…')
    .option('-o, --out <file>', 'write the SBOM to this file instead of stdout')
    .action(async (ref: string, flags: SbomFlags) => {
      const { fetchSbom } = await import('../../sbom/attach.js');
      const found = await fetchSbom(ref, await registryOptions(flags));
      if (flags.out) {
        await writeFile(flags.out, found.bytes);
        process.stderr.write(`SBOM ${found.digest} of ${found.subject} (found via ${found.via}) written to ${flags.out}\n`);
      } else process.stdout.write(`${found.bytes.toString('utf8')}\n`);
    });
  addRegistryOptions(cmd);
}
