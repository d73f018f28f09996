/**
 * Reference norms computed another way than the library does: exact rational
 * arithmetic (BigInt) for p = 1 and 2, compensated summation of (|x|/max)^p for other p.
 */

type Arr = Float32Array | Float64Array;

const view = new DataView(new ArrayBuffer(8));

/** x = m · 2^e with integer m, e (x finite). */
function decompose(x: number): [bigint, number] {
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = hi >>> 20;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return [frac, -1074];
  return [frac | (1n << 52n), biased - 1075];
}

/** A BigInt times 2^shift as a double (relative error < 2^-52). */
function bigToNumber(n: bigint, shift: number): number {
  if (n === 0n) return 0;
  const bits = n.toString(2).length;
  const drop = Math.max(0, bits - 64);
  const top = Number(n >> BigInt(drop));
  return top * 2 ** (shift + drop);
}

/** Σ|x|^p exactly for p ∈ {1, 2}, returned as [integer, power-of-two shift]. */
export function exactPowerSum(arrays: Arr[], p: 1 | 2): [bigint, number] {
  const base = p === 1 ? -1074 : -2148;
  let sum = 0n;
  for (const a of arrays) {
    for (const x of a) {
      if (x === 0) continue;
      const [m, e] = decompose(x);
      sum += p === 1 ? m << BigInt(e + 1074) : (m * m) << BigInt(2 * e + 2148);
    }
  }
  return [sum, base];
}

function compensatedSum(terms: Iterable<number>): number {
  let s = 0;
  let c = 0;
  for (const t of terms) {
    const y = s + t;
    c += Math.abs(s) >= Math.abs(t) ? s - y + t : t - y + s;
    s = y;
  }
  return s + c;
}

/** The total norm as torch defines it, computed exactly (p = 1, 2) or to ~1e-15 (other finite p). */
export function referenceNorm(arrays: Arr[], p: number): number {
  const all = arrays.filter((a) => a.length > 0);
  if (all.length === 0) return 0;
  const values = all.flatMap((a) => Array.from(a, Math.abs));
  if (values.some(Number.isNaN)) return Number.NaN;
  if (p === Number.POSITIVE_INFINITY) return Math.max(...values);
  if (p === Number.NEGATIVE_INFINITY) return Math.min(...values);
  if (p === 0) return all.filter((a) => a.some((x) => x !== 0)).length;
  if (values.some((v) => v === Number.POSITIVE_INFINITY)) return p > 0 ? Number.POSITIVE_INFINITY : 0;
  if (p === 1 || p === 2) {
    const [n, shift] = exactPowerSum(all, p);
    if (p === 1) return bigToNumber(n, shift);
    // sqrt(n · 2^shift): make the exponent even, then take the root of the leading bits.
    const even = shift % 2 === 0 ? shift : shift - 1;
    const m = shift % 2 === 0 ? n : n << 1n;
    const bits = m.toString(2).length;
    const drop = Math.max(0, bits - 106) & ~1;
    const top = Number(m >> BigInt(drop));
    return Math.sqrt(top) * 2 ** ((even + drop) / 2);
  }
  const pivot = p > 0 ? Math.max(...values) : Math.min(...values);
  if (pivot === 0) return p > 0 ? 0 : 0;
  return pivot * compensatedSum(values.map((v) => (v / pivot) ** p)) ** (1 / p);
}
