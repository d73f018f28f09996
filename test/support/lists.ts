import type { GradArray } from '../../src/backends/backend.js';
import { rng } from './rng.js';

/** Tensors of the given sizes at random byteOffsets in their own buffers, values over 40 binades, a few zeros. */
export function spreadList(
  Ctor: typeof Float32Array | typeof Float64Array,
  sizes: number[],
  seed: number,
): GradArray[] {
  const r = rng(seed);
  return sizes.map((n) => {
    const offset = Math.floor(r() * 7);
    const a = new Ctor(new ArrayBuffer((n + offset + 1) * Ctor.BYTES_PER_ELEMENT), offset * Ctor.BYTES_PER_ELEMENT, n);
    for (let i = 0; i < n; i++) a[i] = r() < 0.02 ? 0 : (r() - 0.5) * 2 ** Math.floor(r() * 40 - 20);
    return a;
  });
}

/** Awkward sizes for the cross-backend cases: 0–200, around one block, and past two blocks. */
export const CROSS_SIZES = [...Array.from({ length: 201 }, (_, i) => i), 65535, 65536, 65537, 131073];
