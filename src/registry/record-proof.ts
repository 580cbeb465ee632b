// That a build record's layer diffIDs agree with the configs of the images it names (record-diffids.ts), kept per
// record blob beside the line copies: a fact about digests, so it stays true, and a warm host's no-op asks the
// registry nothing more for it. Written when the check passed, and for a record this host pushed (its layers were
// made here, or kept from a record that was checked). Best effort: without the file, the check runs again.
import { readMarkerText, writeMarkerText } from '../oci/blob-verify.js';
import { isDigest } from '../oci/layout.js';

/** `proven-<hex>` for the record blob `sha256:<hex>`. */
function recordProofName(blob: string): string {
  return `proven-${blob.slice('sha256:'.length)}`;
}

export async function recordProven(dir: string | undefined, blob: string): Promise<boolean> {
  return dir !== undefined && isDigest(blob) && (await readMarkerText(dir, recordProofName(blob))) === blob;
}

export async function markRecordProven(dir: string | undefined, blob: string): Promise<void> {
  if (dir === undefined || !isDigest(blob)) return;
  await writeMarkerText(dir, recordProofName(blob), blob).catch(() => undefined);
}
