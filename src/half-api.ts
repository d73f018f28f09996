import { describe } from './args.js';
import { HalfGradient } from './half.js';
import { typedArrayKind } from './intrinsics.js';

/**
 * A float16 gradient given as its raw bits (IEEE binary16 in a Uint16Array), for runtimes without
 * `Float16Array` (Node 20): pass the result wherever a gradient goes, bare or as a parameter's `grad`.
 * gradclip reads and writes the bits in place; norms accumulate in double, and follow torch 2.11's
 * rounding of the norm and the clip coefficient to the gradient's dtype.
 */
export function float16(bits: Uint16Array): HalfGradient {
  return make(bits, 'float16');
}

/** A bfloat16 gradient given as its raw bits (the upper 16 bits of a float32) in a Uint16Array. */
export function bfloat16(bits: Uint16Array): HalfGradient {
  return make(bits, 'bfloat16');
}

function make(bits: Uint16Array, dtype: 'float16' | 'bfloat16'): HalfGradient {
  if (typedArrayKind(bits) !== 'Uint16Array') {
    throw new TypeError(`bits: expected a Uint16Array of ${dtype} bit patterns, got ${describe(bits)}`);
  }
  return new HalfGradient(bits, dtype);
}
