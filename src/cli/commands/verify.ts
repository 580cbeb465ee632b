// gamelayer verify: checks an image's cosign signatures (and its platform manifests' and SBOMs') with a public key.
import type { Command } from 'commander';
import { GamelayerError } from '../../errors.js';
import { printJson } from '../context.js';
import { withJsonResult } from '../report-error.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';
import { count } from '../../report/plural.js';

interface VerifyFlags extends RegistryFlags {
  key: string;
  requireSbom?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('verify')
    .description('verify the signatures of an image, its platform manifests and its SBOMs; exit 1 unless all verify')
    .argument('<ref>', 'the image: host[:port]/repo:tag or host[:port]/repo@sha256:…')
    .requiredOption('--key <key>', 'public key: a PEM file (cosign.pub), or awskms:///<key ARN> (its GetPublicKey)')
    .option('--require-sbom', 'fail when the image carries no SBOM')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (ref: string, flags: VerifyFlags) => {
      const options = await registryOptions(flags);
      const { publicKeyFor } = await import('../../sign/keys.js');
      const { verifyImage } = await import('../../supply/image-signatures.js');
      const result = await verifyImage({ ...options, ref, key: await publicKeyFor(flags.key), requireSbom: flags.requireSbom });
      // A failed result goes out with its error (report-error.ts): one JSON document.
      if (flags.json && result.ok) printJson(result);
      else if (!flags.json) {
        for (const i of result.items) {
          const good = i.signatures.filter((s) => s.valid).length;
          process.stdout.write(`${i.verified && i.documentValid !== false ? 'verified' : 'FAILED'} ${i.what} ${i.digest} (${good} of ${count(i.signatures.length, 'signature')} valid)\n`);
        }
      }
      if (!result.ok) {
        // Signed, but by another key or damaged (a tampered signature cannot be told from another key's): say both.
        const unsigned = result.items.some((i) => i.signatures.length === 0);
        const failed = result.items.filter((i) => i.signatures.length > 0 && !i.signatures.some((sig) => sig.valid));
        // This key made a signature there, but of another image or under another name: the key is not the problem.
        const otherImage = !unsigned && failed.some((i) => i.signatures.some((sig) => sig.keyMatched));
        const otherKey = !unsigned && failed.length > 0;
        const onlySbom = result.sbomMissing && result.items.every((i) => i.verified && i.documentValid !== false);
        // A document that fails its checks is not fixed by a signature (gamelayer sign refuses to sign it).
        const badDocument = result.items.some((i) => i.documentValid === false);
        const several = result.severalSboms[0];
        const hint = badDocument
          ? 'an attached SBOM fails its checks (damaged, or not made for this image by gamelayer build --sbom): delete that manifest from the repository; signing it would not make it true'
          : several
          ? several.hint
          : onlySbom
          ? 'its signatures verify, but no SBOM is attached: build --push REPO --sbom attaches one to the server image (tree images carry none; a merged build: each build --platform P --push REPO --sbom, to its platform manifest); or verify without --require-sbom'
          : otherImage
          ? 'a signature made with this key names another image (copied or replayed from another tag): sign this image with gamelayer sign REF --key KEY'
          : otherKey
            ? 'its signatures do not verify with this key: made with another key (pass the public key of the key that signed it) or damaged (sign it again with gamelayer sign REF --key KEY)'
            : 'sign it with gamelayer sign REF --key KEY (or build --push REPO --sign KEY; a build merged from platform builds: gamelayer index REPO --sign KEY)';
        throw withJsonResult(new GamelayerError('verify.failed', `${result.ref}: ${result.problems.join('; ')}`, hint), result);
      }
    });
  addRegistryOptions(cmd, 'existing');
}
