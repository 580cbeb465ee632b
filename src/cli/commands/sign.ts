// gamelayer sign: signs an image (its platform manifests and SBOMs too) in the sigstore/cosign format.
import type { Command } from 'commander';
import { printJson } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface SignFlags extends RegistryFlags {
  key: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('sign')
    .description('sign an image, its platform manifests and its SBOMs (cosign format: the sha256-<hex>.sig tag)')
    .argument('<ref>', 'the image: host[:port]/repo:tag (signed under that name) or host[:port]/repo@sha256:…')
    .requiredOption('--key <key>', 'ECDSA P-256 private key: a PEM file (passphrase in GAMELAYER_SIGNING_KEY_PASSWORD), or awskms:///<key ARN>')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (ref: string, flags: SignFlags) => {
      const options = await registryOptions(flags);
      const { signerFor } = await import('../../sign/keys.js');
      const { signImage } = await import('../../supply/sign-images.js');
      const result = await signImage({ ...options, ref, signer: await signerFor(flags.key) });
      if (flags.json) return printJson(result);
      for (const s of result.signed) {
        process.stdout.write(`${s.upToDate ? 'already signed' : 'signed'} ${s.what} ${s.digest} as ${s.identity} (tag ${s.tag})\n`);
      }
    });
  addRegistryOptions(cmd, 'existing');
}
