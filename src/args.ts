import type { GradArray, KernelArray } from './backends/backend.js';
import { HalfGradient } from './half.js';
import {
  bufferOf,
  byteOffsetOf,
  isDetachedView,
  isGradArray,
  isResizable,
  lengthOf,
  typedArrayKind,
} from './intrinsics.js';
import type { NormOptions, NormType } from './types.js';

/**
 * Argument checking. Every check runs before any gradient is written; the messages
 * name the argument (and, for list items, the index) and what was found.
 */

/** What a value is, for an error message: short, and safe even when the value's own code throws. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  const t = typeof value;
  if (t === 'string') return `string ${JSON.stringify((value as string).slice(0, 40))}`;
  if (t === 'number' || t === 'bigint' || t === 'boolean') return `${t} ${String(value).slice(0, 40)}`;
  if (t !== 'object') return t;
  const kind = typedArrayKind(value);
  if (kind !== undefined) return kind;
  try {
    if (Array.isArray(value)) return `Array(${value.length})`;
    const name = (value as object).constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? name.slice(0, 40) : 'object';
  } catch {
    return 'object';
  }
}

/** Why a value is not a gradient array, naming what it is and, where it helps, the fix. */
function notAGradArray(value: unknown, where: string, expected: string): TypeError {
  const kind = typedArrayKind(value);
  const seen = describe(value);
  if (kind !== undefined) {
    return new TypeError(`${where}: expected ${expected}, got ${kind} (convert it, e.g. Float32Array.from(x))`);
  }
  if (typeof value === 'object' && value !== null && /^Float(32|64)Array$/.test(seen)) {
    // Looks like one (a Proxy, or an object with a typed array as its prototype) but is not.
    return new TypeError(
      `${where}: expected ${expected}, got an object that only looks like a ${seen} (a Proxy or a look-alike); pass the typed array itself`,
    );
  }
  const hint = hintFor(value);
  return new TypeError(`${where}: expected ${expected}, got ${seen}${hint}`);
}

/** What to do instead, for the values people pass by mistake. */
function hintFor(value: unknown): string {
  try {
    if (typeof value !== 'object' || value === null) return '';
    const v = value as Record<string, unknown>;
    if (typeof v.dataSync === 'function' && Array.isArray(v.shape) && typeof v.dtype === 'string') {
      return ' (a TensorFlow.js Tensor: gradclip works on the gradient memory itself, e.g. tensor.dataSync() on the cpu backend)';
    }
    if (!Array.isArray(value) && typeof v[Symbol.iterator as unknown as string] !== 'function' && !('grad' in v)) {
      // A parameter object built without its grad key ({ name: 'b' } for `grad?: Float32Array`).
      return ' with no grad property (a parameter without a gradient needs grad: null or undefined, as torch has grad = None)';
    }
  } catch {
    // a hostile getter: no hint
  }
  return '';
}

const GRAD = 'Float32Array or Float64Array';
const ITEM = 'a Float32Array, a Float64Array or an object with a grad property';

/**
 * Flattens `parameters` to the gradient arrays to work on, reading an iterable exactly once.
 * All user code (getters, iterators, Proxies in the list) runs here, first; then every array is
 * checked through the engine's accessors, so an array that a later getter detached is reported
 * instead of being handed to a kernel. Nothing after this calls user code.
 * `forAsync` also refuses resizable ArrayBuffers, which could shrink while the work is in flight.
 */
export function gradientsOf(parameters: unknown, name: string, forAsync?: boolean): GradArray[];
export function gradientsOf(parameters: unknown, name: string, forAsync: boolean, half: true): KernelArray[];
export function gradientsOf(parameters: unknown, name: string, forAsync = false, half = false): KernelArray[] {
  const out: KernelArray[] = [];
  let sawHalf = false;
  // A 16-bit gradient (a Float16Array, or float16(bits) / bfloat16(bits)) as the kernels' view of its bits.
  const asHalf = (value: unknown, at: string): KernelArray | undefined => {
    const view = halfView(value, at);
    if (view !== undefined && !half) {
      throw new TypeError(`${at}: 16-bit gradients (float16/bfloat16) are not supported by this function`);
    }
    if (view !== undefined) sawHalf = true;
    return view;
  };
  // (list index + 1) * 2 + (1 if the array came from a .grad): enough to name it in an error.
  const sources: number[] = [];
  // An array that stood at this place in the previous call's result is a Float32Array/Float64Array
  // for good (an object's internal slots never change), so a training loop's repeated list skips the
  // brand check; only its length, which can change, is read again below.
  const known = previous;
  const take = (item: unknown, index: number): void => {
    if (item === known[out.length] || isGradArray(item)) {
      out.push(item as GradArray);
      sources.push((index + 1) * 2);
      return;
    }
    if (item === null || item === undefined) return;
    const bare = asHalf(item, where(name, index, false));
    if (bare) {
      out.push(bare);
      sources.push((index + 1) * 2);
      return;
    }
    if (!isParameterLike(item)) throw notAGradArray(item, where(name, index, false), ITEM);
    const g = item.grad;
    if (g === null || g === undefined) return;
    if (g !== known[out.length] && !isGradArray(g)) {
      const h = asHalf(g, where(name, index, true));
      if (!h) throw notAGradArray(g, where(name, index, true), GRAD);
      out.push(h);
      sources.push((index + 1) * 2 + 1);
      return;
    }
    out.push(g as GradArray);
    sources.push((index + 1) * 2 + 1);
  };
  // (Array.isArray first: an instanceof check with its own Symbol.hasInstance costs a one-tensor call ~5 %.)
  if (
    isGradArray(parameters) ||
    isParameterLike(parameters) ||
    (!Array.isArray(parameters) && isHalfGradient(parameters))
  ) {
    take(parameters, -1);
  } else if (typedArrayKind(parameters) !== undefined) {
    throw notAGradArray(parameters, name, GRAD);
  } else if (Array.isArray(parameters) && parameters.length > 0 && typeof parameters[0] === 'number') {
    throw new TypeError(
      `${name}: expected a gradient array, an object with a grad property, or an iterable of them, got an Array of numbers ` +
        '(one gradient is a Float32Array or Float64Array: Float32Array.from(x))',
    );
  } else if (Array.isArray(parameters)) {
    // The common case, indexed: a training loop calls this every step with thousands of tensors.
    for (let i = 0; i < parameters.length; i++) take(parameters[i], i);
  } else {
    let iterable = false;
    try {
      iterable =
        typeof parameters === 'object' &&
        parameters !== null &&
        typeof (parameters as Iterable<unknown>)[Symbol.iterator] === 'function';
    } catch {
      iterable = false;
    }
    if (!iterable) {
      throw new TypeError(
        `${name}: expected a gradient array, an object with a grad property, or an iterable of them, got ${describe(parameters)}`,
      );
    }
    let i = 0;
    for (const item of parameters as Iterable<unknown>) take(item, i++);
  }
  // Only now, after the last user code, are the arrays' states read: a getter further down the
  // list may have detached an array taken earlier.
  // Pushed, not preallocated: `new Array(n)` past ~100K elements is a dictionary, slow to fill,
  // and a typed array costs an allocation that a one-tensor call notices.
  const lengths: number[] = [];
  for (let k = 0; k < out.length; k++) {
    const a = out[k];
    const n = lengthOf(a);
    lengths.push(n);
    if (n === 0 && isDetachedView(a)) {
      throw new TypeError(`${where(name, (sources[k] >> 1) - 1, (sources[k] & 1) === 1)}: its ArrayBuffer is detached`);
    }
    if (forAsync && isResizable(bufferOf(a))) {
      throw new TypeError(
        `${where(name, (sources[k] >> 1) - 1, (sources[k] & 1) === 1)}: its ArrayBuffer is resizable, and the async ` +
          'functions cannot let it shrink under the work in flight; use the synchronous function, or a fixed-length ArrayBuffer',
      );
    }
  }
  previous = out;
  plain = sawHalf ? null : out;
  // A synchronous call runs no user code from here to its end, so these lengths stay true for it.
  snapshot = forAsync ? null : out;
  snapshotLengths = lengths;
  return out;
}

/** The last result: arrays whose brand is checked (the memory they hold is kept by the native cache anyway). */
let previous: readonly KernelArray[] = [];
let snapshot: readonly KernelArray[] | null = null;
let snapshotLengths: readonly number[] = [];

/**
 * The lengths gradientsOf read for `list`, if `list` is what it returned to the synchronous call
 * now running (no user code has run since: the facade's synchronous functions read all their
 * options before the parameters, and call none after). Saves the native backend reading them
 * again. Never for the async functions, which await between their backend calls.
 */
export function lengthsSnapshot(list: readonly KernelArray[]): readonly number[] | undefined {
  return list === snapshot ? snapshotLengths : undefined;
}

/** A Float16Array, or what float16(bits) / bfloat16(bits) made (checked by its brand, never trusted). */
function isHalfGradient(value: unknown): boolean {
  return typedArrayKind(value) === 'Float16Array' || value instanceof HalfGradient;
}

/**
 * The kernels' view of a 16-bit gradient — a Uint16Array (float16) or Int16Array (bfloat16) made with the
 * engine's constructors over the same memory — or undefined when `value` is not one.
 */
function halfView(value: unknown, at: string): KernelArray | undefined {
  const kind = typedArrayKind(value);
  let bits: ArrayBufferView;
  let dtype: 'float16' | 'bfloat16';
  if (kind === 'Float16Array') {
    bits = value as ArrayBufferView;
    dtype = 'float16';
  } else if (kind === undefined && value instanceof HalfGradient) {
    const b = (value as HalfGradient).bits;
    const d = (value as HalfGradient).dtype;
    if (d !== 'float16' && d !== 'bfloat16') {
      throw new TypeError(`${at}: a 16-bit gradient's dtype must be 'float16' or 'bfloat16', got ${describe(d)}`);
    }
    dtype = d;
    if (typedArrayKind(b) !== 'Uint16Array') {
      throw new TypeError(`${at}: a 16-bit gradient's bits must be a Uint16Array, got ${describe(b)}`);
    }
    bits = b;
  } else {
    return undefined;
  }
  if (lengthOf(bits) === 0 && isDetachedView(bits)) throw new TypeError(`${at}: its ArrayBuffer is detached`);
  const buffer = bufferOf(bits) as ArrayBuffer;
  return dtype === 'float16'
    ? new Uint16Array(buffer, byteOffsetOf(bits), lengthOf(bits))
    : new Int16Array(buffer, byteOffsetOf(bits), lengthOf(bits));
}

/**
 * The last list gradientsOf returned if it held no 16-bit gradient (so its norm needs no dtype rounding pass).
 * Only the last one: a WeakSet of every list cost a one-tensor call ~10 % (each add is an ephemeron for the
 * GC); a list that is not the last one just takes the dtype pass.
 */
let plain: readonly KernelArray[] | null = null;

/** True when `list` is the last list gradientsOf returned and it holds float32/float64 arrays only. */
export function withoutHalves(list: readonly KernelArray[]): boolean {
  return list === plain;
}

/** `parameters`, `parameters[3]` or `parameters[3].grad`: where an array came from, for an error. */
function where(name: string, index: number, grad: boolean): string {
  return `${index < 0 ? name : `${name}[${index}]`}${grad ? '.grad' : ''}`;
}

/** An object that is not a typed array and has a `grad` (ArrayBuffer.isView, which reads no property, settles the first). */
function isParameterLike(value: unknown): value is { grad: unknown } {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && 'grad' in value;
}

export function checkNumber(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(value)}`);
  return value;
}

export function checkNonNegative(value: unknown, name: string): number {
  const x = checkNumber(value, name);
  if (Number.isNaN(x)) throw new RangeError(`${name}: must be a number >= 0, got NaN`);
  if (x < 0) throw new RangeError(`${name}: must be >= 0, got ${x}`);
  return x;
}

/**
 * The [lo, hi] of a value clip: a number c is torch's symmetric [-c, c] (a negative c makes every
 * element c, as torch's clamp does); { min, max } is TensorFlow's clip_by_value, either side optional.
 */
export function valueBounds(clip: unknown, name: string): [number, number] {
  if (typeof clip === 'number') {
    const c = checkNotNaN(clip, name);
    return [-c, c];
  }
  if (clip === null || typeof clip !== 'object' || Array.isArray(clip)) {
    throw new TypeError(`${name}: expected a number or { min, max }, got ${describe(clip)}`);
  }
  const { min, max } = clip as { min?: unknown; max?: unknown };
  if (min === undefined && max === undefined) {
    throw new TypeError(`${name}: expected { min, max } with at least one of them, got an object with neither`);
  }
  const lo = min === undefined ? Number.NEGATIVE_INFINITY : checkNotNaN(min, `${name}.min`);
  const hi = max === undefined ? Number.POSITIVE_INFINITY : checkNotNaN(max, `${name}.max`);
  if (lo > hi) throw new RangeError(`${name}: min (${lo}) is greater than max (${hi})`);
  return [lo, hi];
}

export function checkNotNaN(value: unknown, name: string): number {
  const x = checkNumber(value, name);
  if (Number.isNaN(x)) throw new RangeError(`${name}: must not be NaN`);
  return x;
}

/** A total norm to clip with: NaN and +Infinity pass (torch scales by them), a negative one cannot be a norm. */
export function checkTotalNorm(value: unknown, name: string): number {
  const x = checkNumber(value, name);
  if (x < 0) throw new RangeError(`${name}: must be >= 0, got ${x}`);
  return x;
}

const INF_NAMES: Record<string, number> = {
  inf: Number.POSITIVE_INFINITY,
  Infinity: Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

export function checkNormType(value: unknown, name: string): number {
  if (value === undefined) return 2;
  if (typeof value === 'string') {
    const p = INF_NAMES[value];
    if (p === undefined) {
      throw new RangeError(
        `${name}: expected a number or one of 'inf', '-inf', 'Infinity', '-Infinity', got ${describe(value)}`,
      );
    }
    return p;
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${name}: expected a number or 'inf'/'-inf', got ${describe(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`${name}: must not be NaN`);
  return value;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(value)}`);
  return value;
}

/** torch's `foreach` chooses a code path; every backend here is multi-tensor, so it is checked and ignored. */
export function checkForeach(value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== 'boolean') {
    throw new TypeError(`foreach: expected a boolean or null, got ${describe(value)}`);
  }
}

const NORM_OPTION_KEYS = new Set(['normType', 'errorIfNonfinite', 'onNonFinite', 'perTensorNorms']);

export type NonFinitePolicy = 'scale' | 'throw' | 'skip';

export function normOptions(options: unknown): {
  p: number;
  errorIfNonfinite: boolean;
  skipNonfinite: boolean;
  perTensorNorms: Float64Array | undefined;
} {
  if (options === undefined || options === null) {
    return { p: 2, errorIfNonfinite: false, skipNonfinite: false, perTensorNorms: undefined };
  }
  if (typeof options !== 'object') {
    throw new TypeError(`options: expected an object like { normType, errorIfNonfinite }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!NORM_OPTION_KEYS.has(key)) {
      throw new TypeError(
        `options.${key}: unknown option (expected normType, errorIfNonfinite, onNonFinite or perTensorNorms)`,
      );
    }
  }
  const o = options as NormOptions;
  const out = o.perTensorNorms;
  if (out !== undefined && typedArrayKind(out) !== 'Float64Array') {
    throw new TypeError(`options.perTensorNorms: expected a Float64Array to fill, got ${describe(out)}`);
  }
  const errorIfNonfinite = checkBoolean(o.errorIfNonfinite, 'options.errorIfNonfinite');
  const policy = o.onNonFinite;
  if (policy !== undefined && policy !== 'scale' && policy !== 'throw' && policy !== 'skip') {
    const what = typeof policy === 'string' ? RangeError : TypeError;
    throw new what(`options.onNonFinite: expected 'scale', 'throw' or 'skip', got ${describe(policy)}`);
  }
  if (errorIfNonfinite && policy !== undefined && policy !== 'throw') {
    throw new TypeError(`options: errorIfNonfinite: true and onNonFinite: '${policy}' disagree (give one of them)`);
  }
  return {
    p: checkNormType(o.normType as NormType | undefined, 'options.normType'),
    errorIfNonfinite: errorIfNonfinite || policy === 'throw',
    skipNonfinite: policy === 'skip',
    perTensorNorms: out,
  };
}

/** The caller's per-tensor output must hold one norm per gradient (checked before any work). */
export function checkPerTensorOut(out: Float64Array | undefined, count: number): void {
  if (out !== undefined && lengthOf(out) < count) {
    throw new RangeError(
      `options.perTensorNorms: has ${lengthOf(out)} elements, the list has ${count} gradients (one norm each)`,
    );
  }
}
