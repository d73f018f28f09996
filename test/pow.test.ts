import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pow2, powPos } from '../src/pow.js';
import * as tables from '../src/pow-tables.js';
import { rng } from './support/rng.js';

/**
 * gradclip's own pow (src/pow.ts; assembly/pow.ts and native/kernels/pow.h are translations, and
 * cross-backend.test.ts / wasm.test.ts check they give the same bits). Here: its special values and
 * its accuracy, against exact BigInt arithmetic for integer exponents.
 */

const view = new DataView(new ArrayBuffer(8));
/** x = mant · 2^exp with mant an odd or zero BigInt (x finite, > 0). */
function split(x: number): [bigint, number] {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return e === 0 ? [frac, -1074] : [frac | (1n << 52n), e - 1075];
}

/** |got - x^n| in ulps of got, exactly, for an integer n != 0. */
function ulpError(got: number, x: number, n: number): number {
  const [m, e] = split(x);
  const [gm, ge] = split(got);
  // x^n = m^|n| · 2^(e·|n|)  (or its reciprocal); got = gm · 2^ge; one ulp of got = 2^ge.
  const num = m ** BigInt(Math.abs(n));
  const shift = e * Math.abs(n);
  // error / ulp = |gm · 2^ge - x^n| / 2^ge, scaled to integers by 2^K.
  const K = 2000;
  let exact: bigint; // x^n · 2^(K - ge) rounded down (enough bits to measure 1/1000 ulp)
  if (n > 0) {
    const s = shift - ge + K;
    exact = s >= 0 ? num << BigInt(s) : num >> BigInt(-s);
  } else {
    const s = -shift - ge + K;
    exact = s >= 0 ? (1n << BigInt(s)) / num : 0n;
  }
  const gotScaled = gm << BigInt(K);
  const diff = gotScaled > exact ? gotScaled - exact : exact - gotScaled;
  return Number((diff * 100000n) >> BigInt(K)) / 100000;
}

describe('powPos', () => {
  it('special values', () => {
    expect(powPos(0, 3)).toBe(0);
    expect(powPos(0, -3)).toBe(Number.POSITIVE_INFINITY);
    expect(powPos(Number.POSITIVE_INFINITY, 0.5)).toBe(Number.POSITIVE_INFINITY);
    expect(powPos(Number.POSITIVE_INFINITY, -0.5)).toBe(0);
    expect(powPos(Number.NaN, 3)).toBeNaN();
    expect(powPos(1, 1e300)).toBe(1);
    expect(powPos(7, 0)).toBe(1);
    expect(powPos(2, 1e6)).toBe(Number.POSITIVE_INFINITY);
    expect(powPos(2, -1e6)).toBe(0);
    expect(powPos(1e-310, 2)).toBe(0); // underflow
    expect(powPos(1e-310, -0.5)).toBeCloseTo(1 / Math.sqrt(1e-310), -150);
  });

  it('exact where the result is a double: 2^k for every k, squares and square roots', () => {
    for (let k = -1074; k <= 1023; k++) expect(powPos(2, k)).toBe(pow2(k));
    for (const x of [9, 1024, 2.25, 6.25e-2]) expect(powPos(x, 0.5)).toBe(Math.sqrt(x));
    for (let x = 1; x < 3000; x += 7) expect(powPos(x, 3)).toBe(x * x * x);
  });

  it('within 0.51 ulp of the exact value (BigInt), over 20,000 random integer-exponent cases', () => {
    const r = rng(11);
    let worst = 0;
    for (let t = 0; t < 20000; t++) {
      const n = [3, 4, 5, 7, -1, -2, -3][t % 7];
      const x = 2 ** Math.floor(r() * 120 - 60) * (1 + r());
      const got = powPos(x, n);
      if (!Number.isFinite(got) || got === 0) continue;
      worst = Math.max(worst, ulpError(got, x, n));
    }
    expect(worst).toBeGreaterThan(0.4); // the measurement itself works: some result is near a half-ulp
    expect(worst).toBeLessThan(0.51);
  });

  it("within 1 ulp of the engine's Math.pow for fractional exponents", () => {
    const r = rng(12);
    for (let t = 0; t < 20000; t++) {
      const y = [0.5, 1.5, 1 / 3, -0.3, 2.5, 0.1][t % 6] + (t % 5 === 0 ? r() : 0);
      const x = 2 ** Math.floor(r() * 80 - 40) * (1 + r());
      const ours = powPos(x, y);
      const theirs = x ** y;
      expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(2 ** (Math.floor(Math.log2(theirs)) - 52) * 1.0000001);
    }
  });

  it('the three generated table files hold the same numbers (TypeScript, AssemblyScript, C++)', () => {
    const numbers = (path: string) => {
      const text = readFileSync(new URL(path, import.meta.url), 'utf8').replace(/^\/\/.*$/gm, '');
      return (text.match(/-?\d+\.\d+(e[-+]?\d+)?/g) ?? []).map(Number);
    };
    const ts = numbers('../src/pow-tables.ts');
    expect(ts.length).toBe(2 * 128 + 2 * 64 + 5);
    expect(numbers('../assembly/pow-tables.ts')).toEqual(ts);
    expect(numbers('../native/kernels/pow_tables.h')).toEqual(ts);
    expect([...tables.LOG_TABLE, ...tables.EXP_TABLE]).toEqual(ts.slice(0, 384));
    // Spot checks of what the tables hold: 2^(0/64) and 2^(32/64).
    expect(tables.EXP_TABLE[0]).toBe(1);
    expect(tables.EXP_TABLE[64]).toBe(Math.SQRT2);
  });
});
