// Kubernetes resource quantities (`500m`, `1.5`, `.5`, `2Gi`, `2G`, `1e3`) read exactly, as the API server reads
// them: a fraction of big integers, so `0.3` and `300m` compare equal and `1Gi` stays above `1G` (floats do not
// promise either). The grammar is resource.Quantity's: a signed decimal, then a binary suffix (Ki…Ei), a decimal
// one (m, k, M…E) or a decimal exponent (e3, E-2).

/** value = num / den, den > 0. */
export interface Quantity {
  num: bigint;
  den: bigint;
}

const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/;
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Beyond this power of ten no resource means anything; it bounds the big integers a hostile file could ask for. */
const MAX_EXPONENT = 1000;

/** The quantity a config value (a YAML string or number) stands for; undefined when it is not one. */
export function parseQuantity(value: unknown): Quantity | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const m = QUANTITY.exec(String(value).trim());
  if (!m) return undefined;
  const [, sign, number, exponent, suffix] = m;
  const [whole, fraction = ''] = number!.split('.');
  const ten = (exponent === undefined ? 0 : Number(exponent)) + (suffix ? (DECIMAL[suffix] ?? 0) : 0) - fraction.length;
  if (!Number.isSafeInteger(ten) || Math.abs(ten) > MAX_EXPONENT) return undefined;
  let num = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n);
  let den = 1n;
  if (suffix && BINARY[suffix] !== undefined) num <<= BigInt(10 * BINARY[suffix]);
  if (ten >= 0) num *= 10n ** BigInt(ten);
  else den = 10n ** BigInt(-ten);
  return { num, den };
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** ⌈q × mul / div⌉ as a number: CPU units (mul 1024) or MiB (div 2^20) without a float's rounding on the way. */
export function ceilQuantity(q: Quantity, mul = 1n, div = 1n): number {
  const n = q.num * mul;
  const d = q.den * div;
  const toZero = n / d; // BigInt division truncates: that is the ceiling below zero, one short of it above
  return Number(n % d !== 0n && n > 0n ? toZero + 1n : toZero);
}
