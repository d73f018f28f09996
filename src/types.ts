import type { BackendName, GradArray } from './backends/backend.js';
import type { HalfGradient } from './half.js';

export type { BackendName, GradArray };

/** A runtime's `Float16Array` (Chromium, Firefox, Deno, newer Node; not Node 20), typed structurally. */
export type Float16ArrayLike = ArrayBufferView & {
  readonly length: number;
  readonly [Symbol.toStringTag]: 'Float16Array';
};

/**
 * A 16-bit gradient: a `Float16Array`, or raw bits wrapped by `float16(u16)` / `bfloat16(u16)`. Accepted
 * by the clip and norm functions (and AutoClip/ZClip); `agc` and `optim.*` take float32/float64 only.
 */
export type HalfGradientLike = Float16ArrayLike | HalfGradient;

/**
 * Anything with a `grad` property, like a torch Parameter. `null`/`undefined` grads are skipped
 * (an object must still have the property: `{}` is refused at run time, so a misspelt key is caught).
 */
export interface ParameterLike {
  grad?: GradArray | null;
}

/** A parameter whose gradient is 16-bit (see HalfGradientLike); the clip and norm functions take it too. */
export interface HalfParameterLike {
  grad?: HalfGradientLike | null;
}

/** One gradient array, one parameter-like, or any iterable of them (read exactly once). */
export type Parameters =
  | GradArray
  | HalfGradientLike
  | ParameterLike
  | HalfParameterLike
  | Iterable<GradArray | HalfGradientLike | ParameterLike | HalfParameterLike | null | undefined>;

/** A p-norm order: any number, or the strings torch accepts for ±infinity. */
export type NormType = number | 'inf' | '-inf' | 'Infinity' | '-Infinity';

export interface NormOptions {
  /** Order of the norm (default 2). */
  normType?: NormType;
  /** Throw instead of scaling when the total norm is NaN or ±Infinity (default false). */
  errorIfNonfinite?: boolean;
  /**
   * What a clip does when the total norm is NaN or ±Infinity: 'scale' (torch's default: every
   * gradient becomes NaN, or ±0 for +Infinity), 'throw' (a NonFiniteNormError, as errorIfNonfinite)
   * or 'skip' (write nothing — skip the step, as Keras' loss-scale optimizer and Optax's
   * apply_if_finite do). With 'skip' the returned total is non-finite exactly when nothing was written.
   */
  onNonFinite?: 'scale' | 'throw' | 'skip';
  /**
   * A Float64Array to fill with each gradient's own norm from the same pass (element i: the i-th
   * gradient present, null/undefined grads skipped), bit for bit `getTotalNorm([that gradient])`.
   * Written only when the call succeeds. At least as long as the list has gradients (RangeError).
   */
  perTensorNorms?: Float64Array;
}

export interface BackendInfo {
  name: BackendName;
  /** Instruction set the kernels run on (e.g. 'avx512', 'avx2', 'sse2', 'neon', 'simd128', 'scalar'). */
  isa: string;
  /** Threads the backend uses for large lists. */
  threads: number;
  /** Backends that were tried before this one, or skipped, each with the reason. */
  fallbacks: string[];
}

/**
 * Bounds for clipGradValue / clipGradValueAsync, as TensorFlow's clip_by_value: an element below
 * `min` becomes `min`, one above `max` becomes `max`, NaN stays NaN. Either may be left out (or be
 * ±Infinity) for one-sided clipping; each is rounded to the gradient's dtype, as torch rounds a clamp
 * scalar.
 */
export interface ValueBounds {
  min?: number;
  max?: number;
}
