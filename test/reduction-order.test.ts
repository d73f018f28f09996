import { describe, expect, it } from 'vitest';
import { BLOCK, LANES } from '../src/backends/backend.js';
import { get_total_norm } from '../src/index.js';
import { bitsOf, CONTRACT, powerNorm, spreadData, VARIANTS } from './support/orders.js';

/**
 * SPEC §6 fixes the order of every addition: blocks of 65536, 32 lanes (element i in lane
 * i mod 32), the pairwise lane tree, blocks in order, tensors in list order. These inputs
 * were chosen so that another lane count, block size or lane tree changes the last bit;
 * the expected bits are written down, so any backend that drifts from the order fails here.
 */

const PINNED = [
  {
    name: 'float64, p=2, 3 blocks + 77',
    Ctor: Float64Array,
    n: 3 * 65536 + 77,
    seed: 1,
    p: 2,
    bits: '416750b80160f2e8',
  },
  {
    name: 'float32, p=2, 3 blocks + 77',
    Ctor: Float32Array,
    n: 3 * 65536 + 77,
    seed: 10,
    p: 2,
    bits: '416761f29f491920',
  },
  {
    name: 'float64, p=1, 3 blocks + 77',
    Ctor: Float64Array,
    n: 3 * 65536 + 77,
    seed: 18,
    p: 1,
    bits: '41d31327d6940b70',
  },
  { name: 'float64, p=2, 1000 elements', Ctor: Float64Array, n: 1000, seed: 18, p: 2, bits: '4129b8e7d1ca69f3' },
  {
    name: 'float32, p=1, 1 block + 4099',
    Ctor: Float32Array,
    n: 65536 + 4099,
    seed: 4,
    p: 1,
    bits: '41bba3c8e4532fea',
  },
] as const;

describe('reduction order (SPEC §6)', () => {
  it('the constants are the contract’s', () => {
    expect(BLOCK).toBe(65536);
    expect(LANES).toBe(32);
    expect(CONTRACT).toEqual({ lanes: LANES, block: BLOCK, tree: 'pairwise' });
  });

  for (const c of PINNED) {
    it(`${c.name}: total norm has the pinned bits`, () => {
      const a = spreadData(c.Ctor, c.n, c.seed);
      const got = get_total_norm(a, c.p);
      expect(bitsOf(got)).toBe(c.bits);
      // The input really discriminates: every other order gives other bits.
      for (const [variant, order] of Object.entries(VARIANTS)) {
        if (variant.startsWith('blocks') && c.n <= 65536) continue;
        expect(bitsOf(powerNorm([a], c.p, order)), variant).not.toBe(c.bits);
      }
    });
  }

  it('tensor partials are added in list order', () => {
    const one = new Float64Array([1]);
    const tiny = () => new Float64Array([2 ** -53]);
    // (1 + 2^-53) + 2^-53 rounds to 1 twice; (2^-53 + 2^-53) + 1 is 1 + 2^-52.
    expect(get_total_norm([one, tiny(), tiny()], 1)).toBe(1);
    expect(get_total_norm([tiny(), tiny(), one], 1)).toBe(1 + 2 ** -52);
  });

  it('lanes are combined by the pairwise tree, not left to right', () => {
    // Lanes 1 and 17 meet first in the tree (k + k+16), so their halves add up exactly.
    const a = new Float64Array(32);
    a[0] = 1;
    a[1] = 2 ** -53;
    a[17] = 2 ** -53;
    expect(get_total_norm(a, 1)).toBe(1 + 2 ** -52);
    const b = new Float64Array(64);
    // With 32 lanes, elements 0 and 32 share lane 0: (1 + 2^-53) + 2^-53 → 1.
    b[0] = 1;
    b[32] = 2 ** -53;
    b[33] = 0;
    b[1] = 0;
    b[63] = 2 ** -53;
    // lane 31 holds 2^-53; it meets lane 15 (0), 7, 3, 1, then lane 0 last: 1 + 2^-53 → 1.
    expect(get_total_norm(b, 1)).toBe(1);
  });
});
