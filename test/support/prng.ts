// Deterministic incompressible bytes for tests: sha256 of `seed:i` blocks, so compressed sizes measure raw bytes.
import { hash } from 'node:crypto';

export function prng(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  // One-shot crypto.hash: the same bytes as createHash().update().digest(), without a Hash object per block (tens of
  // MiB in some tests: about 1.8 times faster).
  for (let i = 0, at = 0; at < n; i++, at += 32) hash('sha256', `${seed}:${i}`, 'buffer').copy(out, at);
  return out;
}

/** A copy of `xs` in a deterministic shuffled order (Fisher–Yates on a small LCG): the same seed, the same order. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
