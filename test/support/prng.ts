// Deterministic incompressible bytes for tests: sha256 of `seed:i` blocks, so compressed sizes measure raw bytes.
import { createHash } from 'node:crypto';

export function prng(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, at = 0; at < n; i++, at += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, at);
  return out;
}
