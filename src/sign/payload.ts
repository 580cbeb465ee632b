// The "simple signing" payload cosign signs and containers/image (skopeo, podman, CRI-O; policy.json
// `sigstoreSigned`) verifies: which manifest digest is signed, under which name. Its fields are checked strictly
// by those tools (exactly these keys in `critical`), so it is written exactly in this shape.
import { GamelayerError } from '../errors.js';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigning {
  /** The name the image was signed under, e.g. `registry/repo:tag` (or `registry/repo`). */
  dockerReference: string;
  /** The signed manifest's digest. */
  manifestDigest: string;
  optional?: Record<string, string | number>;
}

export function simpleSigningPayload(s: SimpleSigning): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': s.dockerReference },
        image: { 'docker-manifest-digest': s.manifestDigest },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional: s.optional ?? null,
    }),
  );
}

/** Parses a payload (only after its signature verified); a wrong shape is an error naming `where`. */
export function parseSimpleSigning(bytes: Buffer, where: string): SimpleSigning {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GamelayerError('verify.payload', `${where}: the signed payload is not JSON`);
  }
  const critical = (v as { critical?: Record<string, unknown> } | null)?.critical;
  const identity = critical?.identity as { 'docker-reference'?: unknown } | undefined;
  const image = critical?.image as { 'docker-manifest-digest'?: unknown } | undefined;
  if (critical?.type !== COSIGN_SIGNATURE_TYPE || typeof identity?.['docker-reference'] !== 'string' || typeof image?.['docker-manifest-digest'] !== 'string') {
    throw new GamelayerError('verify.payload', `${where}: the signed payload is not a cosign simple-signing payload (critical.type, identity, image)`);
  }
  const optional = (v as { optional?: unknown }).optional;
  return {
    dockerReference: identity['docker-reference'],
    manifestDigest: image['docker-manifest-digest'],
    optional: optional && typeof optional === 'object' ? (optional as Record<string, string | number>) : undefined,
  };
}
