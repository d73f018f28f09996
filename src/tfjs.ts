/**
 * gradclip/tfjs — global-norm and value clipping for TensorFlow.js gradients, on every tfjs backend.
 *
 * The arithmetic is gradclip's own (imported from the `gradclip` entry this environment resolves, so
 * the adapter and the library share one backend and one set of settings). How the gradients reach
 * it depends on the tfjs backend the tensors live on, chosen at run time and reported as `transport`:
 *
 *   'in-place'  cpu backend: the tensors' own Float32Array storage, scaled in place (no copy);
 *   'wasm-heap' wasm backend: Float32Array views on tfjs's WebAssembly heap, scaled in place;
 *   'device'    webgl / webgpu: per-tensor partial sums with tfjs ops on the device, only those
 *               scalars read back, the coefficient computed in double, one tf.mul per tensor;
 *   'copy'      anything else (tfjs-node's 'tensorflow', an unknown backend, or internals that do
 *               not look as expected): dataSync() copies, clipped, made into new tensors.
 *
 * A tensor whose storage is shared with another live tensor (a reshape of it, or the same tensor
 * listed twice) is never written in place: it gets a new tensor instead, so no other tensor changes.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  clipGradValue as clampArrays,
  clipGradsWithNorm as clipArraysWithNorm,
  NonFiniteNormError,
  type NormOptions,
  type NormType,
  getTotalNorm as normOfArrays,
  type ValueBounds,
} from 'gradclip';
// Pure argument helpers, bundled into this entry (they hold no state): the library's own messages.
import { checkNonNegative, checkNormType, describe } from './args.js';

export { NonFiniteNormError };

/** What applyGradients receives from minimize() with a variable list, and model.fit(): tfjs' NamedTensor. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** The gradient forms tfjs uses: computeGradients' map, applyGradients' named list, or plain tensors. */
export type Gradients = tf.NamedTensorMap | NamedTensor[] | tf.Tensor[];

export type Transport = 'in-place' | 'wasm-heap' | 'device' | 'copy';

export interface TfjsClipOptions {
  /** Order of the norm (default 2); any p torch's clip_grad_norm_ takes. */
  normType?: NormType;
  /** Throw a NonFiniteNormError (before anything is written) when the total norm is NaN or ±Infinity. */
  errorIfNonfinite?: boolean;
  /** 'scale' (torch's default), 'throw' (= errorIfNonfinite) or 'skip' (return the inputs untouched). */
  onNonFinite?: 'scale' | 'throw' | 'skip';
  /**
   * false: never write an input tensor's storage; clipped gradients are always new tensors (the
   * 'copy' transport). Default true: on cpu and wasm, unshared gradients are scaled in place.
   */
  inPlace?: boolean;
  /**
   * Dispose every input tensor that the result does not contain (those replaced by new tensors).
   * Default false: the caller owns the inputs, as usual in tfjs.
   */
  disposeInputs?: boolean;
}

export interface TfjsClipResult<G extends Gradients> {
  /** The clipped gradients, in the form given. Each is an input tensor (same object) or a new tensor. */
  grads: G;
  /** The total norm before clipping (gradclip's double-precision norm; on 'device', the device's float32 partial sums combined in double). */
  totalNorm: number;
  /** How the gradients were reached (see the module comment). */
  transport: Transport;
  /** Why the transport is 'copy' (or why some tensors were copied), if any. */
  reason?: string;
  /** The gradients were scaled (false: the coefficient was 1, or the step was skipped: the inputs are returned). */
  clipped: boolean;
}

// ---- the gradients as a list ------------------------------------------------------------------

interface GradList<G extends Gradients> {
  tensors: tf.Tensor[];
  keys: string[];
  rebuild(tensors: tf.Tensor[]): G;
}

function isTensor(v: unknown): v is tf.Tensor {
  // Duck-typed: a second copy of tfjs-core in node_modules makes `instanceof` fail for real tensors.
  return (
    v !== null &&
    typeof v === 'object' &&
    'dataId' in v &&
    'shape' in v &&
    'dtype' in v &&
    typeof (v as tf.Tensor).dataSync === 'function'
  );
}

function checkTensor(v: unknown, key: string): tf.Tensor {
  if (!isTensor(v)) throw new TypeError(`${key}: expected a tf.Tensor, got ${describe(v)}`);
  if (v.isDisposed) throw new TypeError(`${key}: the tensor is disposed`);
  if (v.dtype !== 'float32') {
    throw new TypeError(`${key}: gradients must be float32 tensors, got dtype '${v.dtype}'`);
  }
  return v;
}

function gradList<G extends Gradients>(grads: G, name: string): GradList<G> {
  if (Array.isArray(grads)) {
    if (grads.length > 0 && isTensor(grads[0])) {
      const tensors = grads.map((t, i) => checkTensor(t, `${name}[${i}]`));
      return { tensors, keys: tensors.map((_, i) => `${name}[${i}]`), rebuild: (ts) => ts as G };
    }
    const named = grads as unknown[];
    const tensors: tf.Tensor[] = [];
    const keys: string[] = [];
    named.forEach((item, i) => {
      if (item === null || typeof item !== 'object' || !('tensor' in item)) {
        throw new TypeError(
          `${name}[${i}]: expected a tf.Tensor or a { name, tensor } NamedTensor, got ${describe(item)}`,
        );
      }
      const n = (item as NamedTensor).name;
      tensors.push(checkTensor((item as NamedTensor).tensor, `${name}[${i}] (${String(n)})`));
      keys.push(String(n));
    });
    const names = named.map((item) => (item as NamedTensor).name);
    return { tensors, keys, rebuild: (ts) => ts.map((tensor, i) => ({ name: names[i], tensor })) as G };
  }
  if (grads === null || typeof grads !== 'object' || isTensor(grads)) {
    throw new TypeError(
      `${name}: expected a NamedTensorMap ({ name: tensor }), a NamedTensor[] or a Tensor[], got ${describe(grads)}`,
    );
  }
  const keys = Object.keys(grads);
  const tensors = keys.map((k) => checkTensor((grads as tf.NamedTensorMap)[k], `${name}.${k}`));
  return {
    tensors,
    keys,
    rebuild: (ts) => {
      const out: tf.NamedTensorMap = {};
      keys.forEach((k, i) => {
        out[k] = ts[i];
      });
      return out as G;
    },
  };
}

// ---- where the data is ------------------------------------------------------------------------

interface HostData {
  values?: unknown;
  refCount?: number;
}
interface CpuLike {
  data?: { get(dataId: object): HostData | undefined };
}
interface WasmLike {
  dataIdMap?: { get(dataId: object): { memoryOffset?: unknown; refCount?: number } | undefined };
  wasm?: { HEAPU8?: Uint8Array };
}

function backendOf(t: tf.Tensor): { name: string; backend: unknown } {
  const engine = tf.engine() as unknown as {
    state: { tensorInfo: WeakMap<object, { backend: unknown }> };
    registry: Record<string, unknown>;
  };
  const backend = engine.state.tensorInfo.get(t.dataId)?.backend ?? tf.backend();
  const name = Object.entries(engine.registry).find(([, b]) => b === backend)?.[0] ?? tf.getBackend();
  return { name, backend };
}

interface Views {
  transport: Transport;
  reason?: string;
  /** One Float32Array per tensor (storage or heap view, or a copy); absent for 'device'. */
  arrays?: Float32Array[];
  /** Whether each array may be written in place (false: shared storage, or a copy). */
  own?: boolean[];
  /** The arrays are private copies (dataSync): written directly, then made into new tensors. */
  privateArrays?: boolean;
}

/**
 * The tensors' data as Float32Arrays, made after every property read of the call (no user code runs
 * between here and the kernels: a tfjs op in between could grow the wasm heap and detach a view).
 */
function viewsOf(tensors: tf.Tensor[], inPlace = true): Views {
  const views = locate(tensors);
  if (inPlace || !views.own || views.transport === 'copy') return views;
  return { transport: 'copy', reason: 'inPlace: false', arrays: views.arrays, own: views.own.map(() => false) };
}

function locate(tensors: tf.Tensor[]): Views {
  if (tensors.length === 0) return { transport: 'in-place', arrays: [], own: [] };
  const { name, backend } = backendOf(tensors[0]);
  for (const t of tensors) {
    if (backendOf(t).backend !== backend) {
      return { transport: 'copy', reason: 'the tensors live on different tfjs backends', ...copies(tensors) };
    }
  }
  if (name === 'webgl' || name === 'webgpu') return { transport: 'device' };
  const seen = new Set<object>();
  const shared = tensors.map((t) => {
    const dup = seen.has(t.dataId);
    seen.add(t.dataId);
    return dup;
  });
  // A dataId listed twice is shared from its first appearance on: mark every occurrence.
  const counts = new Map<object, number>();
  for (const t of tensors) counts.set(t.dataId, (counts.get(t.dataId) ?? 0) + 1);
  const cpu = backend as CpuLike;
  const wasm = backend as WasmLike;
  if (cpu.data && typeof cpu.data.get === 'function') {
    const entries = tensors.map((t) => cpu.data?.get(t.dataId));
    if (
      entries.every(
        (e, i) => e?.values instanceof Float32Array && (e.values as Float32Array).length === tensors[i].size,
      )
    ) {
      return {
        transport: 'in-place',
        arrays: entries.map((e) => e?.values as Float32Array),
        own: entries.map((e, i) => e?.refCount === 1 && (counts.get(tensors[i].dataId) ?? 0) === 1 && !shared[i]),
      };
    }
    return { transport: 'copy', reason: `the '${name}' backend's storage is not Float32Arrays`, ...copies(tensors) };
  }
  if (wasm.dataIdMap && typeof wasm.dataIdMap.get === 'function' && wasm.wasm?.HEAPU8 instanceof Uint8Array) {
    const heap = wasm.wasm.HEAPU8.buffer;
    const entries = tensors.map((t) => wasm.dataIdMap?.get(t.dataId));
    if (
      entries.every(
        (e, i) => typeof e?.memoryOffset === 'number' && e.memoryOffset + 4 * tensors[i].size <= heap.byteLength,
      )
    ) {
      return {
        transport: 'wasm-heap',
        arrays: entries.map((e, i) => new Float32Array(heap, e?.memoryOffset as number, tensors[i].size)),
        own: entries.map((e, i) => e?.refCount === 1 && (counts.get(tensors[i].dataId) ?? 0) === 1),
      };
    }
    return {
      transport: 'copy',
      reason: `the '${name}' backend's heap layout is not the one expected`,
      ...copies(tensors),
    };
  }
  return { transport: 'copy', reason: `no direct access to the '${name}' backend's memory`, ...copies(tensors) };
}

function copies(tensors: tf.Tensor[]): { arrays: Float32Array[]; own: boolean[]; privateArrays: boolean } {
  return {
    arrays: tensors.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
    own: tensors.map(() => false),
    privateArrays: true,
  };
}

// ---- options ----------------------------------------------------------------------------------

const CLIP_KEYS = new Set(['normType', 'errorIfNonfinite', 'onNonFinite', 'inPlace', 'disposeInputs']);

function clipOptions(options: unknown): { norm: NormOptions; disposeInputs: boolean; inPlace: boolean; skip: boolean } {
  if (options === undefined || options === null) return { norm: {}, disposeInputs: false, inPlace: true, skip: false };
  if (typeof options !== 'object') throw new TypeError(`options: expected an object, got ${describe(options)}`);
  for (const k of Object.keys(options)) {
    if (!CLIP_KEYS.has(k)) {
      throw new TypeError(`options.${k}: unknown option (expected ${[...CLIP_KEYS].join(', ')})`);
    }
  }
  const o = options as TfjsClipOptions;
  if (o.disposeInputs !== undefined && typeof o.disposeInputs !== 'boolean') {
    throw new TypeError(`options.disposeInputs: expected a boolean, got ${describe(o.disposeInputs)}`);
  }
  if (o.inPlace !== undefined && typeof o.inPlace !== 'boolean') {
    throw new TypeError(`options.inPlace: expected a boolean, got ${describe(o.inPlace)}`);
  }
  const { disposeInputs, inPlace, ...norm } = o;
  return { norm, disposeInputs: disposeInputs ?? false, inPlace: inPlace ?? true, skip: o.onNonFinite === 'skip' };
}

const checkMaxNorm = (maxNorm: unknown) => checkNonNegative(maxNorm, 'maxNorm');

// ---- the device path --------------------------------------------------------------------------

/** Per-tensor partials with tfjs ops, as one small tensor to read back (the caller disposes it). */
function devicePartials(tensors: tf.Tensor[], p: number): tf.Tensor {
  return tf.tidy(() => {
    const parts = tensors.map((g) => {
      if (g.size === 0) return tf.scalar(p === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : 0);
      const a = tf.abs(g);
      if (p === Number.POSITIVE_INFINITY) return tf.max(a);
      if (p === Number.NEGATIVE_INFINITY) return tf.min(a);
      if (p === 0) return tf.sum(tf.cast(tf.notEqual(g, 0), 'float32'));
      if (p === 1) return tf.sum(a);
      if (p === 2) return tf.sum(tf.square(g));
      return tf.sum(tf.pow(a, p));
    });
    return tf.stack(parts);
  });
}

/** The total from the device's per-tensor partials, combined in double as torch combines per-tensor norms. */
function combine(partials: ArrayLike<number>, p: number): number {
  const n = partials.length;
  if (n === 0) return 0;
  if (p === Number.POSITIVE_INFINITY || p === Number.NEGATIVE_INFINITY) {
    let m = p > 0 ? 0 : Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = partials[i];
      if (v !== v) return Number.NaN;
      if (p > 0 ? v > m : v < m) m = v;
    }
    return m;
  }
  if (p === 0) {
    let tensors = 0;
    for (let i = 0; i < n; i++) if (partials[i] > 0) tensors++;
    return tensors;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += partials[i];
  return p === 1 ? total : p === 2 ? Math.sqrt(total) : total ** (1 / p);
}

/** The norm order, checked as the library checks it (the same messages). */
const normTypeOf = (value: unknown) => checkNormType(value, 'options.normType');

// ---- clipping ---------------------------------------------------------------------------------

/** The coefficient torch uses: min(1, maxNorm / (total + 1e-6)) (as norm.ts, which this entry does not bundle). */
const coefficientOf = (maxNorm: number, total: number) => Math.min(maxNorm / (total + 1e-6), 1);

function finish<G extends Gradients>(
  list: GradList<G>,
  out: tf.Tensor[],
  disposeInputs: boolean,
  result: Omit<TfjsClipResult<G>, 'grads'>,
): TfjsClipResult<G> {
  if (disposeInputs) {
    const kept = new Set(out);
    for (const t of list.tensors) if (!kept.has(t)) t.dispose();
  }
  return { grads: list.rebuild(out), ...result };
}

/** Scales host arrays by torch's rule and returns the output tensors (inputs where written in place). */
function scaleHost(list: GradList<Gradients>, views: Views, maxNorm: number, total: number): tf.Tensor[] {
  const arrays = views.arrays as Float32Array[];
  const own = views.own as boolean[];
  const inPlace = arrays.filter((_, i) => own[i]);
  // The copies first, from the values before anything is scaled (a shared storage may be written below).
  const fresh: (Float32Array | null)[] = arrays.map((a, i) => (own[i] ? null : views.privateArrays ? a : a.slice()));
  const freshArrays = fresh.filter((a) => a !== null) as Float32Array[];
  if (freshArrays.length > 0) clipArraysWithNorm(freshArrays, maxNorm, total);
  if (inPlace.length > 0) clipArraysWithNorm(inPlace, maxNorm, total);
  return list.tensors.map((t, i) => {
    const copy = fresh[i];
    return copy ? tf.tensor(copy, t.shape, 'float32') : t;
  });
}

/**
 * Scales the gradients so that their total norm is at most `maxNorm` (torch's clip_grad_norm_ rule:
 * min(1, maxNorm / (norm + 1e-6))) and returns them in the form given, with the norm before
 * clipping. On the cpu and wasm backends the norm is gradclip's, bit for bit the number
 * `clip_grad_norm_` returns for the same arrays.
 */
export function clipGradNorm<G extends Gradients>(
  grads: G,
  maxNorm: number,
  options?: TfjsClipOptions,
): TfjsClipResult<G> {
  const max = checkMaxNorm(maxNorm);
  const { norm, disposeInputs, inPlace, skip } = clipOptions(options);
  const p = normTypeOf(norm.normType);
  const list = gradList(grads, 'grads');
  const views = viewsOf(list.tensors, inPlace);
  if (views.transport === 'device') {
    const partials = devicePartials(list.tensors, p);
    let values: ArrayLike<number>;
    try {
      values = partials.dataSync();
    } finally {
      partials.dispose();
    }
    return deviceFinish(list, combine(values, p), max, norm, disposeInputs, skip);
  }
  const arrays = views.arrays as Float32Array[];
  const total =
    arrays.length === 0
      ? 0
      : normOfArrays(arrays, {
          normType: norm.normType,
          errorIfNonfinite: norm.errorIfNonfinite || norm.onNonFinite === 'throw',
        });
  const base = { totalNorm: total, transport: views.transport, ...(views.reason ? { reason: views.reason } : {}) };
  const coef = coefficientOf(max, total);
  if (coef === 1 || (skip && !Number.isFinite(total))) {
    return finish(list, list.tensors, false, { ...base, clipped: false });
  }
  const out = scaleHost(list as GradList<Gradients>, views, max, total);
  const copied = views.own?.some((o) => !o) && views.transport !== 'copy';
  return finish(list, out, disposeInputs, {
    ...base,
    ...(copied ? { reason: 'tensors sharing storage with another live tensor were given new tensors' } : {}),
    clipped: true,
  });
}

function deviceFinish<G extends Gradients>(
  list: GradList<G>,
  total: number,
  max: number,
  norm: NormOptions,
  disposeInputs: boolean,
  skip: boolean,
): TfjsClipResult<G> {
  const p = normTypeOf(norm.normType);
  if ((norm.errorIfNonfinite || norm.onNonFinite === 'throw') && !Number.isFinite(total)) {
    throw new NonFiniteNormError(p, total);
  }
  const coef = coefficientOf(max, total);
  if (coef === 1 || (skip && !Number.isFinite(total))) {
    return finish(list, list.tensors, false, { totalNorm: total, transport: 'device', clipped: false });
  }
  const c = Math.fround(coef);
  const out = list.tensors.map((t) => tf.tidy(() => tf.mul(t, tf.scalar(c))));
  return finish(list, out, disposeInputs, { totalNorm: total, transport: 'device', clipped: true });
}

/**
 * clipGradNorm as a Promise. On webgl / webgpu the partial sums are read back with `data()`, so the
 * JS thread is not blocked waiting for the device; elsewhere the work is done in the call (it is a
 * pass over memory) and the promise is already settled.
 */
export async function clipGradNormAsync<G extends Gradients>(
  grads: G,
  maxNorm: number,
  options?: TfjsClipOptions,
): Promise<TfjsClipResult<G>> {
  const max = checkMaxNorm(maxNorm);
  const { norm, disposeInputs, skip } = clipOptions(options);
  const p = normTypeOf(norm.normType);
  const list = gradList(grads, 'grads');
  const { name } = list.tensors.length ? backendOf(list.tensors[0]) : { name: '' };
  if (name !== 'webgl' && name !== 'webgpu') return clipGradNorm(grads, maxNorm, options);
  const partials = devicePartials(list.tensors, p);
  let values: ArrayLike<number>;
  try {
    values = await partials.data();
  } finally {
    partials.dispose();
  }
  for (const [i, t] of list.tensors.entries()) {
    if (t.isDisposed) throw new TypeError(`${list.keys[i]}: the tensor was disposed while its norm was computed`);
  }
  return deviceFinish(list, combine(values, p), max, norm, disposeInputs, skip);
}

/** The total norm of the gradients (gradclip's on cpu/wasm; the device's partial sums on webgl/webgpu). */
export function getTotalNorm(
  grads: Gradients,
  options?: Pick<TfjsClipOptions, 'normType' | 'errorIfNonfinite'>,
): number {
  const { norm } = clipOptions(options);
  const p = normTypeOf(norm.normType);
  const list = gradList(grads, 'grads');
  const views = viewsOf(list.tensors);
  let total: number;
  if (views.transport === 'device') {
    const partials = devicePartials(list.tensors, p);
    try {
      total = combine(partials.dataSync(), p);
    } finally {
      partials.dispose();
    }
  } else {
    const arrays = views.arrays as Float32Array[];
    total = arrays.length === 0 ? 0 : normOfArrays(arrays, { normType: norm.normType });
  }
  if (norm.errorIfNonfinite && !Number.isFinite(total)) throw new NonFiniteNormError(p, total);
  return total;
}

/** getTotalNorm as a Promise: on webgl / webgpu the partial sums are read back with `data()` (no blocking read). */
export async function getTotalNormAsync(
  grads: Gradients,
  options?: Pick<TfjsClipOptions, 'normType' | 'errorIfNonfinite'>,
): Promise<number> {
  const { norm } = clipOptions(options);
  const p = normTypeOf(norm.normType);
  const list = gradList(grads, 'grads');
  const { name } = list.tensors.length ? backendOf(list.tensors[0]) : { name: '' };
  if (name !== 'webgl' && name !== 'webgpu') return getTotalNorm(grads, options);
  const partials = devicePartials(list.tensors, p);
  let total: number;
  try {
    total = combine(await partials.data(), p);
  } finally {
    partials.dispose();
  }
  if (norm.errorIfNonfinite && !Number.isFinite(total)) throw new NonFiniteNormError(p, total);
  return total;
}

/**
 * Clamps every gradient element: to [-clipValue, clipValue] for a number (torch's clip_grad_value_),
 * or to [min, max] for `{ min, max }` (tf.clipByValue's semantics). On cpu and wasm the unshared
 * tensors are clamped in place and returned; elsewhere new tensors are returned.
 */
export function clipGradValue<G extends Gradients>(
  grads: G,
  clipValue: number | ValueBounds,
  options?: Pick<TfjsClipOptions, 'disposeInputs' | 'inPlace'>,
): Omit<TfjsClipResult<G>, 'totalNorm'> {
  const { disposeInputs, inPlace } = clipOptions(options);
  let lo: number;
  let hi: number;
  if (typeof clipValue === 'number') {
    if (Number.isNaN(clipValue)) throw new RangeError('clipValue: must not be NaN');
    [lo, hi] = [-clipValue, clipValue];
  } else if (clipValue !== null && typeof clipValue === 'object') {
    lo = clipValue.min ?? Number.NEGATIVE_INFINITY;
    hi = clipValue.max ?? Number.POSITIVE_INFINITY;
    if (typeof lo !== 'number' || Number.isNaN(lo))
      throw new RangeError(`clipValue.min: expected a number, got ${describe(lo)}`);
    if (typeof hi !== 'number' || Number.isNaN(hi))
      throw new RangeError(`clipValue.max: expected a number, got ${describe(hi)}`);
    if (lo > hi) throw new RangeError(`clipValue: min (${lo}) is greater than max (${hi})`);
  } else {
    throw new TypeError(`clipValue: expected a number or { min, max }, got ${describe(clipValue)}`);
  }
  const list = gradList(grads, 'grads');
  const views = viewsOf(list.tensors, inPlace);
  let out: tf.Tensor[];
  if (views.transport === 'device') {
    out = list.tensors.map((t) =>
      tf.clipByValue(t, Math.max(lo, -3.4028234663852886e38), Math.min(hi, 3.4028234663852886e38)),
    );
  } else {
    const arrays = views.arrays as Float32Array[];
    const own = views.own as boolean[];
    const fresh = arrays.map((a, i) => (own[i] ? null : views.privateArrays ? a : a.slice()));
    const targets = arrays.map((a, i) => fresh[i] ?? a);
    // torch's symmetric rule for a number (a negative clipValue makes every element clipValue).
    if (targets.length > 0) clampArrays(targets, typeof clipValue === 'number' ? clipValue : { min: lo, max: hi });
    out = list.tensors.map((t, i) => {
      const copy = fresh[i];
      return copy ? tf.tensor(copy, t.shape, 'float32') : t;
    });
  }
  const { totalNorm: _, ...rest } = finish(list, out, disposeInputs, {
    totalNorm: Number.NaN,
    transport: views.transport,
    ...(views.reason ? { reason: views.reason } : {}),
    clipped: true,
  });
  return rest;
}

// ---- optimizers -------------------------------------------------------------------------------

export interface GradClippingOptions extends Omit<TfjsClipOptions, 'disposeInputs' | 'inPlace'> {
  /** Clip the total norm to this (torch's clip_grad_norm_). */
  maxNorm?: number;
  /** Clamp each element (torch's clip_grad_value_ for a number; { min, max } for tf.clipByValue's form). */
  clipValue?: number | ValueBounds;
}

export interface GradClippingStats {
  /** The total norm of the last step's gradients before clipping (NaN before the first step, or with clipValue only). */
  lastTotalNorm: number;
  /** Steps seen, and steps whose gradients were scaled or clamped. */
  steps: number;
  clippedSteps: number;
  /** The last step's transport. */
  transport: Transport | null;
}

/**
 * Makes an optimizer clip every step: its applyGradients (which minimize() and model.fit() call) first
 * clips the gradients. Returns the same optimizer object (class, config and serialization unchanged),
 * with a read-only `gradclip` property holding the last step's numbers. Calling it twice on one
 * optimizer is a TypeError.
 */
export function withGradClipping<O extends tf.Optimizer>(
  optimizer: O,
  options: GradClippingOptions,
): O & { readonly gradclip: GradClippingStats } {
  if (
    optimizer === null ||
    typeof optimizer !== 'object' ||
    typeof (optimizer as tf.Optimizer).applyGradients !== 'function'
  ) {
    throw new TypeError(`optimizer: expected a tf.Optimizer (with applyGradients), got ${describe(optimizer)}`);
  }
  if ('gradclip' in optimizer) throw new TypeError('optimizer: already wrapped by withGradClipping');
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options: expected { maxNorm } and/or { clipValue }, got ${describe(options)}`);
  }
  const { maxNorm, clipValue, ...normOptions } = options;
  if (maxNorm === undefined && clipValue === undefined) {
    throw new TypeError('options: give maxNorm (clip the total norm) or clipValue (clamp each element), or both');
  }
  if (maxNorm !== undefined) checkMaxNorm(maxNorm);
  clipOptions(normOptions); // checked now, not at the first step
  if (clipValue !== undefined) clipGradValue([], clipValue);
  const stats: GradClippingStats = { lastTotalNorm: Number.NaN, steps: 0, clippedSteps: 0, transport: null };
  const apply = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (variableGradients: tf.NamedTensorMap | NamedTensor[]) => {
    let grads = variableGradients;
    const made: tf.Tensor[] = [];
    const inputs = new Set(gradList(grads, 'variableGradients').tensors);
    let clipped = false;
    if (clipValue !== undefined) {
      const r = clipGradValue(grads, clipValue);
      grads = r.grads;
      stats.transport = r.transport;
      clipped = true;
    }
    if (maxNorm !== undefined) {
      const r = clipGradNorm(grads, maxNorm, normOptions);
      stats.lastTotalNorm = r.totalNorm;
      stats.transport = r.transport;
      // New tensors made by the value clip and then replaced by the norm clip are ours to dispose.
      if (r.clipped) for (const t of gradList(grads, 'variableGradients').tensors) if (!inputs.has(t)) made.push(t);
      grads = r.grads;
      clipped ||= r.clipped;
    }
    for (const t of gradList(grads, 'variableGradients').tensors) if (!inputs.has(t)) made.push(t);
    stats.steps++;
    if (clipped) stats.clippedSteps++;
    try {
      apply(grads);
    } finally {
      tf.dispose([...new Set(made)]);
    }
  };
  Object.defineProperty(optimizer, 'gradclip', { value: stats, enumerable: false });
  return optimizer as O & { readonly gradclip: GradClippingStats };
}
