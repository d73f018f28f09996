import { rng } from './rng.js';

/**
 * Alternative summation orders, to show that the pinned inputs in
 * reduction-order.test.ts really tell them apart from the contract's order.
 */
export interface Order {
  lanes: number;
  block: number;
  tree: 'pairwise' | 'sequential';
}

export const CONTRACT: Order = { lanes: 32, block: 65536, tree: 'pairwise' };

/** The total p-norm (p = 1 or 2) of the list, summed in the given order. */
export function powerNorm(arrays: (Float32Array | Float64Array)[], p: 1 | 2, order: Order): number {
  let total = 0;
  for (const a of arrays) {
    let partial = 0;
    for (let start = 0; start < a.length; start += order.block) {
      const l = new Float64Array(order.lanes);
      const end = Math.min(a.length, start + order.block);
      for (let i = start; i < end; i++) l[(i - start) % order.lanes] += p === 2 ? a[i] * a[i] : Math.abs(a[i]);
      let s: number;
      if (order.tree === 'pairwise') {
        for (let w = order.lanes >> 1; w >= 1; w >>= 1) for (let k = 0; k < w; k++) l[k] += l[k + w];
        s = l[0];
      } else {
        s = 0;
        for (const v of l) s += v;
      }
      partial += s;
    }
    total += partial;
  }
  return p === 2 ? Math.sqrt(total) : total;
}

export function bitsOf(x: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16).padStart(16, '0');
}

/** Values spread over 40 binades, so that rounding depends on the order of additions. */
export function spreadData(
  Ctor: typeof Float32Array | typeof Float64Array,
  n: number,
  seed: number,
): Float32Array | Float64Array {
  const r = rng(seed);
  const a = new Ctor(n);
  for (let i = 0; i < n; i++) a[i] = (r() - 0.5) * 2 ** Math.floor(r() * 40 - 20);
  return a;
}

export const VARIANTS: Record<string, Order> = {
  '16 lanes': { ...CONTRACT, lanes: 16 },
  '64 lanes': { ...CONTRACT, lanes: 64 },
  'blocks of 32768': { ...CONTRACT, block: 32768 },
  'blocks of 131072': { ...CONTRACT, block: 131072 },
  'sequential lane combine': { ...CONTRACT, tree: 'sequential' },
  'plain left-to-right sum': { lanes: 1, block: 2 ** 30, tree: 'sequential' },
};
