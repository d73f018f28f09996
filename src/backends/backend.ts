/**
 * The kernel contract every backend implements. Backends know nothing of torch:
 * they run one reduction or one in-place transform over a whole list of arrays,
 * in the order fixed by SPEC §6. All semantics live in the facade (src/clip.ts).
 */

export type GradArray = Float32Array | Float64Array;
/**
 * What the norm, scale and clamp kernels take: float32/float64 arrays, and 16-bit gradients as their
 * bits — float16 in a Uint16Array, bfloat16 in an Int16Array — in views the facade makes (src/half.ts).
 */
export type KernelArray = GradArray | Uint16Array | Int16Array;

export type BackendName = 'native' | 'wasm' | 'js';

/** Per-tensor reductions. Numeric codes are shared with the native and wasm kernels. */
export const ReduceOp = {
  /** Σ|x·s| in the lane/block order of SPEC §6. */
  SumAbs: 0,
  /** Σ(x·s)² in the lane/block order of SPEC §6. */
  SumSquares: 1,
  /** max |x|, NaN if any element is NaN; 0 for an empty array. */
  MaxAbs: 2,
  /** min |x|, NaN if any element is NaN; +Infinity for an empty array. */
  MinAbs: 3,
  /** number of elements that are not 0 (NaN counts as nonzero). */
  CountNonzero: 4,
  /** Σ|x·s|^p in the lane/block order of SPEC §6 (pow need not be bit-identical across backends). */
  SumPow: 5,
} as const;
export type ReduceOp = (typeof ReduceOp)[keyof typeof ReduceOp];

/** The optimizer step kernels (SPEC §8). Numeric codes shared with native/engine.h StepKind. */
export const StepKind = { Sgd: 0, Adam: 1 } as const;
export type StepKind = (typeof StepKind)[keyof typeof StepKind];

/**
 * Where each scalar of an optimizer step sits in its `hyper` Float64Array (the same order as
 * StepArgs in native/kernels/contract.h and the wasm kernels' parameters). Each is a double that the
 * kernel rounds once to the tensor's dtype, as torch rounds a Python scalar.
 */
export const StepHyper = {
  /** The fused clip: g·c (1: none), then clamped to [lo, hi] (±Infinity: none), then ×sign (−1: maximize). */
  c: 0,
  lo: 1,
  hi: 2,
  sign: 3,
  /** SGD and Adam: g + weightDecay·p when nonzero. */
  weightDecay: 4,
  /** SGD: momentum, 1 − dampening, −lr, nesterov (0/1). */
  momentum: 5,
  damp1: 6,
  negLr: 7,
  nesterov: 8,
  /** Adam/AdamW: decoupled (AdamW, 0/1: p·decay first, decay = 1 − lr·weight_decay), amsgrad (0/1). */
  decoupled: 9,
  amsgrad: 10,
  decay: 11,
  /** β1, 1 − β1, β2, 1 − β2, eps. */
  beta1: 12,
  omb1: 13,
  beta2: 14,
  omb2: 15,
  eps: 16,
  length: 17,
} as const;

/** Tensors per group of a step's list: SGD param, grad[, momentum buffer]; Adam param, grad, m, v[, vmax]. */
export function stepWidth(kind: StepKind, hyper: Float64Array): number {
  return kind === StepKind.Sgd ? (hyper[StepHyper.momentum] !== 0 ? 3 : 2) : hyper[StepHyper.amsgrad] !== 0 ? 5 : 4;
}

export interface Backend {
  readonly name: BackendName;
  /** Instruction set the kernels run on ('scalar' for plain JS). */
  readonly isa: string;
  /** Things worth knowing about how it loaded (e.g. a GRADCLIP_ISA it could not honour); shown in getBackend().fallbacks. */
  readonly notes?: readonly string[];
  /** Threads used for large lists (1 where the backend has no pool). */
  threads(): number;
  setThreads(n: number): void;
  /**
   * out[i] = the partial of arrays[i] under `op`. `scales`, when given, holds an exact
   * power of two per array that multiplies each element before it is reduced (the
   * overflow/underflow recompute of SPEC §6); only the Sum* ops read it.
   */
  reduce(arrays: readonly KernelArray[], op: ReduceOp, p: number, scales: Float64Array | null, out: Float64Array): void;
  /** x ← x·coef, with coef rounded once to each array's dtype (f32 products correctly rounded). */
  scale(arrays: readonly KernelArray[], coef: number): void;
  /**
   * arrays[i] ← arrays[i]·coefs[i], each coefficient rounded once to its array's dtype (as scale);
   * an array whose coefficient is exactly 1 is not written. For per-tensor clipping.
   */
  scaleEach(arrays: readonly KernelArray[], coefs: Float64Array): void;
  /** x ← min(max(x, lo), hi) with lo/hi rounded to each array's dtype; NaN stays NaN. */
  clamp(arrays: readonly KernelArray[], lo: number, hi: number): void;
  /**
   * Column sums of squares of `a` read as a row-major [rows, columns] matrix (columns divides its
   * length): out[c] = Σ_r (x[r·columns + c]·s)², each column's terms added in row order (r = 0, 1,
   * …) in double; `s` an exact power of two (the overflow recompute). The strided units of AGC's
   * 'jax' layout. Every backend adds the same terms in the same order: the same bits.
   */
  columnSumSquares(a: GradArray, columns: number, s: number, out: Float64Array): void;
  /**
   * x[r·columns + c] ← x·coefs[c], each coefficient rounded once to the dtype; a column whose
   * coefficient is exactly 1 is not written; NaN products are stored canonical (as scale).
   */
  scaleColumns(a: GradArray, columns: number, coefs: Float64Array): void;
  /**
   * One optimizer step (SPEC §8) over `arrays`: groups of stepWidth(kind, hyper) arrays of one dtype and
   * length each (SGD: param, grad[, momentum buffer]; Adam: param, grad, exp_avg, exp_avg_sq[,
   * max_exp_avg_sq]). The grad is only read. `perTensor` holds two doubles per group: SGD [first step
   * (0/1: the buffer becomes the gradient), unused]; Adam [−lr/(1 − β1^step), √(1 − β2^step)].
   */
  step(kind: StepKind, arrays: readonly GradArray[], hyper: Float64Array, perTensor: Float64Array): void;
  /** The same operations off the JS thread, where the backend can; the facade awaits them. */
  reduceAsync?(
    arrays: readonly KernelArray[],
    op: ReduceOp,
    p: number,
    scales: Float64Array | null,
    out: Float64Array,
  ): Promise<void>;
  scaleAsync?(arrays: readonly KernelArray[], coef: number): Promise<void>;
  scaleEachAsync?(arrays: readonly KernelArray[], coefs: Float64Array): Promise<void>;
  /** Memory for a GradientBuffer that this backend can work on in place (wasm); others use a plain ArrayBuffer. */
  allocate?(bytes: number, spare?: number): { buffer: ArrayBuffer; offset: number };
  /**
   * With allocate: `bytes` from the arena whose ArrayBuffer is `buffer` if it has that much room left
   * (fresh memory: zeros), else null. The optimizers put a parameter's state beside it this way, so a
   * step on the wasm backend reads and writes all of a parameter's arrays in place.
   */
  allocateNear?(buffer: ArrayBufferLike, bytes: number): { buffer: ArrayBuffer; offset: number } | null;
  /** With allocate: the arenas (wasm memories) made, the bytes handed out, the largest one allocation. */
  arenaStats?(): { arenas: number; bytes: number; largest: number };
  stepAsync?(kind: StepKind, arrays: readonly GradArray[], hyper: Float64Array, perTensor: Float64Array): Promise<void>;
  clampAsync?(arrays: readonly KernelArray[], lo: number, hi: number): Promise<void>;
}

/**
 * The reduction-order constants of SPEC §6. Each backend defines them once (this
 * file for js; native/kernels/contract.h; assembly/contract.ts) and they change
 * only together, with test/reduction-order.test.ts.
 */
export const BLOCK = 65536;
export const LANES = 32;
