import { withoutHalves } from './args.js';
import { type Backend, type KernelArray, ReduceOp } from './backends/backend.js';
import { canonicalizeNaNs } from './backends/js.js';
import { type HalfDtype, roundTo } from './half.js';
import { halfDtypeOf, lengthOf } from './intrinsics.js';
import { pow2, powPos } from './pow.js';

/** One backend reduction the norm computation needs; the driver answers with its partials. */
export interface ReduceRequest {
  arrays: readonly KernelArray[];
  op: ReduceOp;
  p: number;
  scales: Float64Array | null;
  /** Where the driver may write the partials (arrays.length long), saving an allocation. */
  into?: Float64Array;
}

/** A norm computation as a sequence of reductions, so one plan serves sync and async drivers. */
export type NormPlan = Generator<ReduceRequest, number, Float64Array>;

/**
 * The total norm of a list of gradients: torch's norm of the per-tensor norms,
 * computed from per-tensor partials that the backend reduces in the order of SPEC §6.
 */

/** A sum partial below this may have lost bits to underflow: recompute it scaled. */
const UNDERFLOW_GUARD = 2 ** -900;

/** The e with 2^e <= x < 2^(e+1), for finite x > 0. */
export function exponentOf(x: number): number {
  let e = Math.floor(Math.log2(x));
  // log2 can be off by one near powers of two; settle it exactly.
  if (pow2(e) > x) e--;
  else if (pow2(e + 1) <= x) e++;
  return e;
}

function sumOpFor(p: number): ReduceOp {
  if (p === 1) return ReduceOp.SumAbs;
  if (p === 2) return ReduceOp.SumSquares;
  return ReduceOp.SumPow;
}

function maxWithNaN(values: Float64Array): number {
  let m = 0;
  for (const v of values) {
    if (v > m) m = v;
    else if (v !== v) return Number.NaN;
  }
  return m;
}

/**
 * Σ over tensors of Σ|x|^p, then the p-th root, for finite p ≠ 0. A tensor whose
 * partial overflowed, or may have underflowed, while its elements are finite is
 * reduced again with an exact power-of-two scale 2^-e (e from max |x| for p > 0,
 * from min |x| for p < 0, where the smallest elements dominate), and its partial
 * is carried as S·2^(p·e). The combination is done here, once, for every backend.
 */
function* powerNorm(arrays: readonly KernelArray[], p: number, perTensor?: Float64Array): NormPlan {
  const n = arrays.length;
  const op = sumOpFor(p);
  // With perTensor wanted, the partials land in it (one array fewer per call; each becomes its root below).
  const into = perTensor && perTensor.length === n ? perTensor : undefined;
  const partials = yield { arrays, op, p, scales: null, into };

  const suspects: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = partials[i];
    if ((s === Number.POSITIVE_INFINITY || s < UNDERFLOW_GUARD) && lengthOf(arrays[i]) > 0) suspects.push(i);
  }
  // The root with gradclip's own pow too: Math.pow differs between engines.
  const root = (total: number) => (p === 1 ? total : p === 2 ? Math.sqrt(total) : powPos(total, 1 / p));
  if (suspects.length === 0) {
    // The common case: every partial is finite and unscaled (a NaN one makes the sum NaN).
    let total = 0;
    for (let i = 0; i < n; i++) total += partials[i];
    // (The 2-norm's loop on its own: a closure call per tensor costs lists of 10,000 small tensors ~5 %.)
    if (perTensor && p === 2) for (let i = 0; i < n; i++) perTensor[i] = Math.sqrt(partials[i]);
    else if (perTensor) for (let i = 0; i < n; i++) perTensor[i] = root(partials[i]);
    return root(total);
  }
  // (The rescue reads the partials after the per-tensor roots are written: it gets its own copy.)
  return yield* rescued(arrays, p, op, into ? partials.slice() : partials, perTensor, root, suspects);
}

/** powerNorm when some partials overflowed or may have underflowed: the scaled recompute. */
function* rescued(
  arrays: readonly KernelArray[],
  p: number,
  op: ReduceOp,
  partials: Float64Array,
  perTensor: Float64Array | undefined,
  root: (total: number) => number,
  suspects: number[],
): NormPlan {
  const n = arrays.length;
  const exps = new Int32Array(n);
  const subset = suspects.map((i) => arrays[i]);
  const extremes = yield { arrays: subset, op: p > 0 ? ReduceOp.MaxAbs : ReduceOp.MinAbs, p, scales: null };
  const rescale: number[] = [];
  for (let j = 0; j < subset.length; j++) {
    const m = extremes[j];
    // m = 0: the partial is truly 0 (p > 0) or +inf (p < 0); m non-finite: so is the partial.
    if (m > 0 && m < Number.POSITIVE_INFINITY) rescale.push(j);
  }
  if (rescale.length > 0) {
    const scales = new Float64Array(rescale.length);
    const again = rescale.map((j, k) => {
      // 2^-e must itself be a finite double: for subnormal extremes, stop at 2^1022
      // (the scaled values are then >= 2^-52, far from underflow).
      const e = Math.max(exponentOf(extremes[j]), -1022);
      exps[suspects[j]] = e;
      scales[k] = pow2(-e);
      return subset[j];
    });
    const out = yield { arrays: again, op, p, scales };
    rescale.forEach((j, k) => {
      partials[suspects[j]] = out[k];
    });
  }

  // Each tensor's own norm, as this plan computes it for a list of that one tensor.
  if (perTensor) {
    for (let i = 0; i < n; i++) {
      const s = partials[i];
      perTensor[i] =
        s !== s
          ? Number.NaN
          : s === Number.POSITIVE_INFINITY
            ? p > 0
              ? s
              : 0
            : s === 0 || exps[i] === 0
              ? root(s)
              : root(s) * pow2(exps[i]);
    }
  }

  // A partial that is still NaN or +∞ after the rescale is exact: a NaN element, or an
  // infinite one (p > 0) or a zero one (p < 0), where |x|^p = +∞. It decides the total on its
  // own — scaling it by 2^(p·Δ), which may round to 0, would turn ∞ into NaN.
  let infinite = false;
  for (let i = 0; i < n; i++) {
    if (partials[i] !== partials[i]) return Number.NaN;
    if (partials[i] === Number.POSITIVE_INFINITY) infinite = true;
  }
  if (infinite) return p > 0 ? Number.POSITIVE_INFINITY : 0;

  // Factor out the dominant scale so every other term is multiplied by 2^(p·Δ) <= 1.
  let top: number | undefined;
  for (let i = 0; i < n; i++) {
    if (partials[i] !== 0 && (top === undefined || (p > 0 ? exps[i] > top : exps[i] < top))) top = exps[i];
  }
  top ??= 0;
  let total = 0;
  const integral = Number.isInteger(p);
  for (let i = 0; i < n; i++) {
    const shift = p * (exps[i] - top);
    if (partials[i] === 0) continue;
    total += shift === 0 ? partials[i] : partials[i] * (integral ? pow2(shift) : powPos(2, shift));
  }
  return top === 0 ? root(total) : root(total) * pow2(top);
}

/**
 * The total norm; with `perTensor` (arrays.length long), also each tensor's own norm from the same
 * reductions — bit for bit what the plan gives for a list of that one tensor.
 */
export function* totalNormPlan(arrays: readonly KernelArray[], p: number, perTensor?: Float64Array): NormPlan {
  if (arrays.length === 0) return 0;
  if (p === Number.POSITIVE_INFINITY) {
    const out = yield { arrays, op: ReduceOp.MaxAbs, p, scales: null };
    if (perTensor) perTensor.set(out);
    return maxWithNaN(out);
  }
  if (p === Number.NEGATIVE_INFINITY) {
    // An empty tensor has no minimum; it is ignored (torch throws). Alone, its "norm" is 0.
    const nonEmpty = arrays.filter((a) => lengthOf(a) > 0);
    if (perTensor) perTensor.fill(0);
    if (nonEmpty.length === 0) return 0;
    const out = yield { arrays: nonEmpty, op: ReduceOp.MinAbs, p, scales: null };
    if (perTensor) {
      let k = 0;
      arrays.forEach((a, i) => {
        if (lengthOf(a) > 0) perTensor[i] = out[k++];
      });
    }
    let m = Number.POSITIVE_INFINITY;
    for (const v of out) {
      if (v < m) m = v;
      else if (v !== v) return Number.NaN;
    }
    return m;
  }
  if (p === 0) {
    // torch's norm of norms: the 0-"norm" of the per-tensor nonzero counts,
    // i.e. the number of tensors with any nonzero element (so 1 or 0 for one tensor).
    const out = yield { arrays, op: ReduceOp.CountNonzero, p, scales: null };
    let tensors = 0;
    for (const c of out) if (c > 0) tensors++;
    if (perTensor)
      out.forEach((c, i) => {
        perTensor[i] = c > 0 ? 1 : 0;
      });
    return tensors;
  }
  return yield* powerNorm(arrays, p, perTensor);
}

function answer(request: ReduceRequest, backend: Backend): Float64Array {
  const out = request.into ?? new Float64Array(request.arrays.length);
  backend.reduce(request.arrays, request.op, request.p, request.scales, out);
  return out;
}

/** NaN as one value: a NaN total's sign and payload depend on the hardware that made it. */
function canonical(total: number): number {
  return total === total ? total : Number.NaN;
}

/** Per-tensor norms that are NaN get the canonical NaN's bits (written through an integer view, as the js backend does). */
function canonicalAll(values: Float64Array | undefined): void {
  if (!values) return;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) {
      canonicalizeNaNs(values, false);
      return;
    }
  }
}

export function totalNorm(
  arrays: readonly KernelArray[],
  p: number,
  backend: Backend,
  perTensor?: Float64Array,
): number {
  const plan = totalNormPlan(arrays, p, perTensor);
  let step = plan.next();
  while (!step.done) step = plan.next(answer(step.value, backend));
  // A per-tensor norm is NaN only if the total is (a NaN partial makes every combination NaN), so
  // the scan for NaNs to canonicalize runs only then: lists of many small tensors notice it.
  if (step.value !== step.value) canonicalAll(perTensor);
  return inDtype(arrays, canonical(step.value), perTensor);
}

/** The 16-bit dtype every array of a list has, if they all have the same one (torch then rounds the norm to it). */
export function commonHalfDtype(arrays: readonly KernelArray[]): HalfDtype | undefined {
  if (arrays.length === 0) return undefined;
  const first = halfDtypeOf(arrays[0]);
  if (!first) return undefined;
  for (let i = 1; i < arrays.length; i++) if (halfDtypeOf(arrays[i]) !== first) return undefined;
  return first;
}

/**
 * torch 2.11's rule for 16-bit gradients: a norm is a tensor of the gradients' dtype. Each 16-bit
 * tensor's own norm is rounded to its dtype, and the total to the list's dtype when every gradient has
 * the same 16-bit one (gradclip computes both exactly in double first, then rounds once). Lists with a
 * float32/float64 gradient keep the double total, as gradclip always does.
 */
function inDtype(arrays: readonly KernelArray[], total: number, perTensor?: Float64Array): number {
  if (withoutHalves(arrays)) return total;
  if (perTensor) {
    for (let i = 0; i < arrays.length; i++) {
      const d = halfDtypeOf(arrays[i]);
      if (d && perTensor[i] === perTensor[i]) perTensor[i] = roundTo(perTensor[i], d); // (NaN stays canonical)
    }
  }
  const d = commonHalfDtype(arrays);
  return d ? roundTo(total, d) : total;
}

/**
 * torch's clip coefficient for a norm of a 16-bit dtype, op by op as torch 2.11 evaluates
 * `clamp(max_norm / (total_norm + 1e-6), max=1)` on a 0-dim tensor of that dtype: each operation in
 * float32, rounded to the dtype (`max_norm / t` is `t.reciprocal() * max_norm` in torch).
 */
export function halfClipCoefficient(maxNorm: number, total: number, dtype: HalfDtype): number {
  const denom = roundTo(Math.fround(Math.fround(total) + Math.fround(1e-6)), dtype);
  const recip = roundTo(Math.fround(1 / denom), dtype);
  return Math.min(roundTo(Math.fround(recip * Math.fround(maxNorm)), dtype), 1);
}

/** The clip coefficient for a list: torch's 16-bit arithmetic when all its gradients share a 16-bit dtype, else double. */
export function clipCoefficientFor(arrays: readonly KernelArray[], maxNorm: number, total: number): number {
  const d = commonHalfDtype(arrays);
  return d ? halfClipCoefficient(maxNorm, total, d) : clipCoefficient(maxNorm, total);
}

/** totalNorm with the reductions run off the JS thread where the backend can. */
export async function totalNormAsync(
  arrays: readonly KernelArray[],
  p: number,
  backend: Backend,
  perTensor?: Float64Array,
): Promise<number> {
  const plan = totalNormPlan(arrays, p, perTensor);
  let step = plan.next();
  while (!step.done) {
    const { arrays: list, op, p: order, scales } = step.value;
    let out: Float64Array;
    if (backend.reduceAsync) {
      out = step.value.into ?? new Float64Array(list.length);
      await backend.reduceAsync(list, op, order, scales, out);
    } else {
      out = answer(step.value, backend);
    }
    step = plan.next(out);
  }
  if (step.value !== step.value) canonicalAll(perTensor);
  return inDtype(arrays, canonical(step.value), perTensor);
}

/** A float as Python's repr prints it: 2.0, 0.5, inf, 1e-07, 1e+16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac || '0'}`;
}

const NON_FINITE_BRAND = Symbol.for('gradclip.NonFiniteNormError');

/**
 * Thrown when `error_if_nonfinite` is set and the total norm is NaN or ±Infinity; torch's message.
 * `instanceof` recognises one thrown by another copy of gradclip (the ESM and the CommonJS build in
 * one process) through a Symbol.for brand.
 */
export class NonFiniteNormError extends Error {
  readonly totalNorm: number;
  readonly normType: number;
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[NON_FINITE_BRAND] === true;
  }
  constructor(normType: number, total: number) {
    super(
      `The total norm of order ${pythonFloat(normType)} for gradients from \`parameters\` is non-finite, ` +
        'so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm ' +
        'anyway, set `error_if_nonfinite=False`',
    );
    this.name = 'NonFiniteNormError';
    this.totalNorm = total;
    this.normType = normType;
    Object.defineProperty(this, NON_FINITE_BRAND, { value: true });
  }
}

/** torch's coefficient max_norm / (total + 1e-6), clamped to at most 1, in double (NaN stays NaN). */
export function clipCoefficient(maxNorm: number, total: number): number {
  const coef = maxNorm / (total + 1e-6);
  return Math.min(coef, 1);
}
