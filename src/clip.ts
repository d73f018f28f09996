import {
  checkBoolean,
  checkForeach,
  checkNonNegative,
  checkNormType,
  checkNotNaN,
  checkPerTensorOut,
  checkTotalNorm,
  gradientsOf,
  normOptions,
  valueBounds,
} from './args.js';
import type { KernelArray } from './backends/backend.js';
import { halfDtypeOf, lengthOf } from './intrinsics.js';
import {
  clipCoefficient,
  clipCoefficientFor,
  halfClipCoefficient,
  NonFiniteNormError,
  totalNorm,
  totalNormAsync,
} from './norm.js';
import { activeBackend } from './registry.js';
import type { NormOptions, NormType, Parameters, ValueBounds } from './types.js';

/**
 * The facade: torch's semantics over whichever backend is active. Arguments are
 * all checked before any work; the gradients are written by one backend call at the end.
 */

function normOf(
  grads: KernelArray[],
  p: number,
  errorIfNonfinite: boolean,
  perTensorOut?: Float64Array,
  /** perTensorOut is gradclip's own fresh array (getNorms): written directly, as no caller sees it if this throws. */
  fresh = false,
): number {
  checkPerTensorOut(perTensorOut, grads.length);
  if (fresh && perTensorOut) {
    const total = totalNorm(grads, p, activeBackend(), perTensorOut);
    if (errorIfNonfinite && !Number.isFinite(total)) throw new NonFiniteNormError(p, total);
    return total;
  }
  const perTensor = perTensorOut ? new Float64Array(grads.length) : undefined;
  const total = totalNorm(grads, p, activeBackend(), perTensor);
  if (errorIfNonfinite && !Number.isFinite(total)) throw new NonFiniteNormError(p, total);
  // Written only once nothing can throw any more: a call that throws has written nothing.
  if (perTensorOut && perTensor) perTensorOut.set(perTensor);
  return total;
}

function scaleBy(grads: KernelArray[], maxNorm: number, total: number): void {
  const coef = clipCoefficientFor(grads, maxNorm, total);
  // ×1 changes no value (not NaN, −0 or inf), so the write pass is skipped.
  if (coef !== 1 && grads.length > 0) activeBackend().scale(grads, coef);
}

function clipNorm(
  grads: KernelArray[],
  maxNorm: number,
  p: number,
  errorIfNonfinite: boolean,
  perTensorOut?: Float64Array,
  skipNonfinite = false,
): number {
  if (grads.length === 0) return 0;
  const total = normOf(grads, p, errorIfNonfinite, perTensorOut);
  if (skipNonfinite && !Number.isFinite(total)) return total; // onNonFinite: 'skip' writes nothing
  scaleBy(grads, maxNorm, total);
  return total;
}

function clipValue(grads: KernelArray[], clipValue: number): void {
  // torch clamps min first, then max: with a negative clip_value every element becomes clip_value.
  if (grads.length > 0) activeBackend().clamp(grads, -clipValue, clipValue);
}

// ---- torch spelling -------------------------------------------------------------------------

/**
 * Scales the gradients in place so that their total `norm_type`-norm is at most `max_norm`,
 * and returns the total norm before clipping (torch.nn.utils.clip_grad_norm_).
 */
export function clip_grad_norm_(
  parameters: Parameters,
  max_norm: number,
  norm_type: NormType = 2,
  error_if_nonfinite = false,
  foreach: boolean | null = null,
): number {
  const maxNorm = checkNonNegative(max_norm, 'max_norm');
  const p = checkNormType(norm_type, 'norm_type');
  const strict = checkBoolean(error_if_nonfinite, 'error_if_nonfinite');
  checkForeach(foreach);
  return clipNorm(gradientsOf(parameters, 'parameters', false, true), maxNorm, p, strict);
}

/** Clamps every gradient element to [-clip_value, clip_value] in place (torch.nn.utils.clip_grad_value_). */
export function clip_grad_value_(parameters: Parameters, clip_value: number, foreach: boolean | null = null): void {
  const c = checkNotNaN(clip_value, 'clip_value');
  checkForeach(foreach);
  clipValue(gradientsOf(parameters, 'parameters', false, true), c);
}

/** The total `norm_type`-norm of the tensors, as clip_grad_norm_ computes it (torch.nn.utils.get_total_norm). */
export function get_total_norm(
  tensors: Parameters,
  norm_type: NormType = 2,
  error_if_nonfinite = false,
  foreach: boolean | null = null,
): number {
  const p = checkNormType(norm_type, 'norm_type');
  const strict = checkBoolean(error_if_nonfinite, 'error_if_nonfinite');
  checkForeach(foreach);
  const grads = gradientsOf(tensors, 'tensors', false, true);
  return grads.length === 0 ? 0 : normOf(grads, p, strict);
}

/** Scales the gradients by min(1, max_norm / (total_norm + 1e-6)) in place (torch.nn.utils.clip_grads_with_norm_). */
export function clip_grads_with_norm_(
  parameters: Parameters,
  max_norm: number,
  total_norm: number,
  foreach: boolean | null = null,
): void {
  const maxNorm = checkNonNegative(max_norm, 'max_norm');
  const total = checkTotalNorm(total_norm, 'total_norm');
  checkForeach(foreach);
  scaleBy(gradientsOf(parameters, 'parameters', false, true), maxNorm, total);
}

/** torch's import path: `nn.utils.clip_grad_norm_(...)`. */
export const nn = {
  utils: { clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_ },
} as const;

// ---- camelCase spelling ---------------------------------------------------------------------

/** Clips the total norm of the gradients to `maxNorm` in place; returns the norm before clipping. */
export function clipGradNorm(parameters: Parameters, maxNorm: number, options?: NormOptions): number {
  const max = checkNonNegative(maxNorm, 'maxNorm');
  const { p, errorIfNonfinite, skipNonfinite, perTensorNorms } = normOptions(options);
  return clipNorm(
    gradientsOf(parameters, 'parameters', false, true),
    max,
    p,
    errorIfNonfinite,
    perTensorNorms,
    skipNonfinite,
  );
}

/**
 * Clamps every gradient element in place: to [-clipValue, clipValue] for a number (torch's
 * clip_grad_value_), or to [min, max] for `{ min, max }` (TensorFlow's clip_by_value; either side may
 * be left out). NaN elements stay NaN.
 */
export function clipGradValue(parameters: Parameters, clipValue: number | ValueBounds): void {
  const [lo, hi] = valueBounds(clipValue, 'clipValue');
  const grads = gradientsOf(parameters, 'parameters', false, true);
  if (grads.length > 0) activeBackend().clamp(grads, lo, hi);
}

/** The total norm of the gradients (default: 2-norm). */
export function getTotalNorm(tensors: Parameters, options?: NormOptions): number {
  const { p, errorIfNonfinite, perTensorNorms } = normOptions(options);
  const grads = gradientsOf(tensors, 'tensors', false, true);
  return grads.length === 0 ? 0 : normOf(grads, p, errorIfNonfinite, perTensorNorms);
}

/**
 * The total norm and each gradient's own norm, from one pass over memory: `perTensor[i]` is
 * `getTotalNorm([the i-th gradient], options)` bit for bit (null/undefined grads are skipped, so i
 * counts the gradients that are there). For dashboards that log per-layer norms.
 */
export function getNorms(tensors: Parameters, options?: NormOptions): { total: number; perTensor: Float64Array } {
  const { p, errorIfNonfinite, perTensorNorms } = normOptions(options);
  const grads = gradientsOf(tensors, 'tensors', false, true);
  const perTensor = perTensorNorms ?? new Float64Array(grads.length);
  const total = grads.length === 0 ? 0 : normOf(grads, p, errorIfNonfinite, perTensor, perTensorNorms === undefined);
  return { total, perTensor };
}

/** getNorms as a Promise; on the native backend the reductions run off the JS thread. */
export async function getNormsAsync(
  tensors: Parameters,
  options?: NormOptions,
): Promise<{ total: number; perTensor: Float64Array }> {
  const { total, perTensor } = await normsAsync(tensors, options, true);
  return { total, perTensor: perTensor as Float64Array };
}

/** The total (and, when wanted or asked for through perTensorNorms, the per-tensor norms) off the JS thread. */
async function normsAsync(
  tensors: Parameters,
  options: NormOptions | undefined,
  wantPerTensor: boolean,
): Promise<{ total: number; perTensor: Float64Array | undefined }> {
  const { p, errorIfNonfinite, perTensorNorms } = normOptions(options);
  const grads = gradientsOf(tensors, 'tensors', true, true);
  checkPerTensorOut(perTensorNorms, grads.length);
  const perTensor = wantPerTensor || perTensorNorms ? new Float64Array(grads.length) : undefined;
  if (grads.length === 0) return { total: 0, perTensor: perTensorNorms ?? perTensor };
  const total = await totalNormAsync(grads, p, activeBackend(), perTensor);
  if (errorIfNonfinite && !Number.isFinite(total)) throw new NonFiniteNormError(p, total);
  if (perTensorNorms && perTensor) perTensorNorms.set(perTensor);
  return { total, perTensor: perTensorNorms ?? perTensor };
}

/** Scales the gradients by min(1, maxNorm / (totalNorm + 1e-6)) in place. */
export function clipGradsWithNorm(parameters: Parameters, maxNorm: number, totalNorm_: number): void {
  const max = checkNonNegative(maxNorm, 'maxNorm');
  const total = checkTotalNorm(totalNorm_, 'totalNorm');
  scaleBy(gradientsOf(parameters, 'parameters', false, true), max, total);
}

/** The coefficients of clipGradNormPerTensor from the per-tensor norms; throws (before any write) for 'throw'. */
function perTensorNormCoefs(
  grads: readonly KernelArray[],
  norms: Float64Array,
  max: number,
  p: number,
  strict: boolean,
  skip: boolean,
): Float64Array {
  const coefs = new Float64Array(norms.length);
  for (let i = 0; i < norms.length; i++) {
    const n = norms[i];
    if (!Number.isFinite(n)) {
      if (strict) throw new NonFiniteNormError(p, n);
      if (skip) {
        coefs[i] = 1;
        continue;
      }
    }
    const half = halfDtypeOf(grads[i]);
    coefs[i] = half ? halfClipCoefficient(max, n, half) : clipCoefficient(max, n);
  }
  return coefs;
}

/** Turns the 2-norms into RMS values in place and returns clipGradRmsPerTensor's coefficients. */
function perTensorRmsCoefs(
  grads: KernelArray[],
  rms: Float64Array,
  threshold: number,
  strict: boolean,
  skip: boolean,
): Float64Array {
  const coefs = new Float64Array(grads.length);
  for (let i = 0; i < rms.length; i++) {
    const n = lengthOf(grads[i]);
    rms[i] = n === 0 ? Number.NaN : rms[i] / Math.sqrt(n);
    if (n === 0) {
      coefs[i] = 1;
      continue;
    }
    if (!Number.isFinite(rms[i])) {
      if (strict) throw new NonFiniteNormError(2, rms[i]);
      if (skip) {
        coefs[i] = 1;
        continue;
      }
    }
    // (A zero gradient needs nothing: with threshold 0, 0/0 would make it NaN.)
    coefs[i] = rms[i] === 0 ? 1 : 1 / Math.max(1, rms[i] / threshold);
  }
  return coefs;
}

function rmsOptions(options: unknown): ReturnType<typeof normOptions> {
  if (options !== undefined && options !== null && typeof options === 'object' && 'normType' in options) {
    throw new TypeError(
      'options.normType: the RMS is always the 2-norm over √n; use clipGradNormPerTensor for other norms',
    );
  }
  return normOptions(options);
}

/** User code may have run while an async norm was computed: scale exactly what was measured, or nothing. */
export function checkLengthsUnchanged(grads: KernelArray[], lengths: number[], fn: string): void {
  grads.forEach((g, i) => {
    if (lengthOf(g) !== lengths[i]) {
      throw new TypeError(
        `parameters: a gradient changed length during ${fn} (${lengths[i]} → ${lengthOf(g)}); nothing was scaled`,
      );
    }
  });
}

/**
 * Clips each gradient's own norm to `maxNorm` in place (Keras' clipnorm, tf.clip_by_norm per
 * tensor): gradient i is scaled by torch's coefficient applied to it alone, min(1, maxNorm /
 * (norm_i + 1e-6)), so the result is bit for bit clipGradNorm([gradient i], maxNorm). One read pass and
 * one write pass over the whole list. Returns the per-tensor norms before clipping (null/undefined
 * grads skipped). A non-finite norm_i follows onNonFinite: 'scale' (that gradient becomes NaN / ±0),
 * 'throw' (before anything is written) or 'skip' (that gradient is left as it is).
 */
export function clipGradNormPerTensor(parameters: Parameters, maxNorm: number, options?: NormOptions): Float64Array {
  const max = checkNonNegative(maxNorm, 'maxNorm');
  const { p, errorIfNonfinite, skipNonfinite, perTensorNorms } = normOptions(options);
  const grads = gradientsOf(parameters, 'parameters', false, true);
  checkPerTensorOut(perTensorNorms, grads.length);
  const norms = new Float64Array(grads.length);
  if (grads.length === 0) return perTensorNorms ?? norms;
  totalNorm(grads, p, activeBackend(), norms);
  activeBackend().scaleEach(grads, perTensorNormCoefs(grads, norms, max, p, errorIfNonfinite, skipNonfinite));
  if (perTensorNorms) perTensorNorms.set(norms);
  return perTensorNorms ?? norms;
}

/** clipGradNormPerTensor as a Promise; on the native backend the norms and the scaling run off the JS thread. */
export async function clipGradNormPerTensorAsync(
  parameters: Parameters,
  maxNorm: number,
  options?: NormOptions,
): Promise<Float64Array> {
  const max = checkNonNegative(maxNorm, 'maxNorm');
  const { p, errorIfNonfinite, skipNonfinite, perTensorNorms } = normOptions(options);
  const grads = gradientsOf(parameters, 'parameters', true, true);
  checkPerTensorOut(perTensorNorms, grads.length);
  const norms = new Float64Array(grads.length);
  if (grads.length === 0) return perTensorNorms ?? norms;
  const lengths = grads.map(lengthOf);
  const backend = activeBackend();
  await totalNormAsync(grads, p, backend, norms);
  checkLengthsUnchanged(grads, lengths, 'clipGradNormPerTensorAsync');
  const coefs = perTensorNormCoefs(grads, norms, max, p, errorIfNonfinite, skipNonfinite);
  if (backend.scaleEachAsync) await backend.scaleEachAsync(grads, coefs);
  else backend.scaleEach(grads, coefs);
  if (perTensorNorms) perTensorNorms.set(norms);
  return perTensorNorms ?? norms;
}

/**
 * Clips each gradient's root mean square to `threshold` in place (Optax's clip_by_block_rms):
 * gradient i is multiplied by 1 / max(1, rms_i / threshold), rms_i = ‖g_i‖₂ / √n_i, the
 * coefficient rounded once to the gradient's dtype (Optax divides by the max instead; the two can
 * differ in the last bit). Returns the per-tensor RMS values before clipping. An empty gradient has
 * no RMS (NaN) and is left alone; a NaN/infinite RMS follows onNonFinite as clipGradNormPerTensor.
 */
export function clipGradRmsPerTensor(
  parameters: Parameters,
  threshold: number,
  options?: Pick<NormOptions, 'onNonFinite' | 'perTensorNorms'>,
): Float64Array {
  const t = checkNonNegative(threshold, 'threshold');
  const { errorIfNonfinite, skipNonfinite, perTensorNorms } = rmsOptions(options);
  const grads = gradientsOf(parameters, 'parameters', false, true);
  checkPerTensorOut(perTensorNorms, grads.length);
  const rms = new Float64Array(grads.length);
  if (grads.length === 0) return perTensorNorms ?? rms;
  totalNorm(grads, 2, activeBackend(), rms);
  activeBackend().scaleEach(grads, perTensorRmsCoefs(grads, rms, t, errorIfNonfinite, skipNonfinite));
  if (perTensorNorms) perTensorNorms.set(rms);
  return perTensorNorms ?? rms;
}

/** clipGradRmsPerTensor as a Promise; on the native backend the norms and the scaling run off the JS thread. */
export async function clipGradRmsPerTensorAsync(
  parameters: Parameters,
  threshold: number,
  options?: Pick<NormOptions, 'onNonFinite' | 'perTensorNorms'>,
): Promise<Float64Array> {
  const t = checkNonNegative(threshold, 'threshold');
  const { errorIfNonfinite, skipNonfinite, perTensorNorms } = rmsOptions(options);
  const grads = gradientsOf(parameters, 'parameters', true, true);
  checkPerTensorOut(perTensorNorms, grads.length);
  const rms = new Float64Array(grads.length);
  if (grads.length === 0) return perTensorNorms ?? rms;
  const lengths = grads.map(lengthOf);
  const backend = activeBackend();
  await totalNormAsync(grads, 2, backend, rms);
  checkLengthsUnchanged(grads, lengths, 'clipGradRmsPerTensorAsync');
  const coefs = perTensorRmsCoefs(grads, rms, t, errorIfNonfinite, skipNonfinite);
  if (backend.scaleEachAsync) await backend.scaleEachAsync(grads, coefs);
  else backend.scaleEach(grads, coefs);
  if (perTensorNorms) perTensorNorms.set(rms);
  return perTensorNorms ?? rms;
}

/**
 * clipGradNorm as a Promise. Arguments are checked synchronously (a bad call rejects before
 * any work); on the native backend the reductions and the scaling run off the JS thread.
 * Gradients on resizable ArrayBuffers are refused (TypeError). On the native backend the
 * gradients' ArrayBuffers are marked untransferable, for good (see the README): a transfer
 * while the work is in flight could otherwise free memory a kernel is using.
 * Writing to the gradients before the promise settles races with the kernels.
 */
export async function clipGradNormAsync(
  parameters: Parameters,
  maxNorm: number,
  options?: NormOptions,
): Promise<number> {
  const max = checkNonNegative(maxNorm, 'maxNorm');
  const { p, errorIfNonfinite, skipNonfinite, perTensorNorms } = normOptions(options);
  const grads = gradientsOf(parameters, 'parameters', true, true);
  checkPerTensorOut(perTensorNorms, grads.length);
  if (grads.length === 0) return 0;
  const lengths = grads.map(lengthOf);
  const backend = activeBackend();
  const perTensor = perTensorNorms ? new Float64Array(grads.length) : undefined;
  const total = await totalNormAsync(grads, p, backend, perTensor);
  if (errorIfNonfinite && !Number.isFinite(total)) throw new NonFiniteNormError(p, total);
  const coef = clipCoefficientFor(grads, max, total);
  checkLengthsUnchanged(grads, lengths, 'clipGradNormAsync');
  if (perTensorNorms && perTensor) perTensorNorms.set(perTensor);
  if (skipNonfinite && !Number.isFinite(total)) return total; // onNonFinite: 'skip' writes nothing
  if (coef !== 1) {
    if (backend.scaleAsync) await backend.scaleAsync(grads, coef);
    else backend.scale(grads, coef);
  }
  return total;
}

/** getTotalNorm as a Promise; on the native backend the reductions run off the JS thread. */
export async function getTotalNormAsync(tensors: Parameters, options?: NormOptions): Promise<number> {
  return (await normsAsync(tensors, options, false)).total;
}

/** clipGradValue as a Promise (a number or { min, max }); on the native backend the clamping runs off the JS thread. */
export async function clipGradValueAsync(parameters: Parameters, clipValue: number | ValueBounds): Promise<void> {
  const [lo, hi] = valueBounds(clipValue, 'clipValue');
  const grads = gradientsOf(parameters, 'parameters', true, true);
  if (grads.length === 0) return;
  const backend = activeBackend();
  if (backend.clampAsync) await backend.clampAsync(grads, lo, hi);
  else backend.clamp(grads, lo, hi);
}
