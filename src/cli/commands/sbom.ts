// gamelayer sbom: prints the CycloneDX SBOM attached to an image (checked against its digest, schema and image).
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface SbomFlags extends RegistryFlags {
  out?: string;
  key?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('sbom')
    .description('print the CycloneDX SBOM attached to an image (build --push REPO --sbom attaches one)')
    .argument('<ref>', 'the image: host[:port]/repo:tag or host[:port]/repo@sha256:…')
    .option('-o, --out <file>', 'write the SBOM to this file instead of stdout')
    .option('--key <key>', 'take only an SBOM signed by this key (PEM public key or awskms:///ARN)')
    .action(async (ref: string, flags: SbomFlags) => {
      const options = await registryOptions(flags);
      let found;
      if (flags.key) {
        const { publicKeyFor } = await import('../../sign/keys.js');
        const { fetchSignedSbom } = await import('../../supply/image-signatures.js');
        found = await fetchSignedSbom({ ...options, ref, key: await publicKeyFor(flags.key) });
      } else {
        const { fetchSbom } = await import('../../sbom/attach.js');
        found = await fetchSbom(ref, options);
        if (found.others) process.stderr.write(`warning: ${found.others + 1} SBOMs are attached to ${found.subject}; printing ${found.digest} (pass --key to take only a signed one)\n`);
      }
      if (flags.out) {
        await writeFile(flags.out, found.bytes);
        process.stderr.write(`SBOM ${found.digest} of ${found.subject} (found via ${found.via}) written to ${flags.out}\n`);
      } else process.stdout.write(`${found.bytes.toString('utf8')}\n`);
    });
  addRegistryOptions(cmd);
}
