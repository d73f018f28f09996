import type { GradArray } from './backends/backend.js';
import type { NormOptions, NormType } from './types.js';

/**
 * Argument checking. Every check runs before any gradient is written; the messages
 * name the argument (and, for list items, the index) and what was found.
 */

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `Array(${value.length})`;
  const t = typeof value;
  if (t === 'string') return `string ${JSON.stringify(value).slice(0, 40)}`;
  if (t === 'number' || t === 'bigint' || t === 'boolean') return `${t} ${String(value)}`;
  if (t !== 'object') return t;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? name : 'object';
}

export function isGradArray(value: unknown): value is GradArray {
  return value instanceof Float32Array || value instanceof Float64Array;
}

function isDetached(a: ArrayBufferView): boolean {
  // A detached buffer leaves its views with length 0. Node 20 has no
  // ArrayBuffer.prototype.detached, so ask the buffer to make a new view.
  const buffer = a.buffer as ArrayBuffer & { detached?: boolean };
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

function badGrad(value: unknown, where: string): TypeError {
  return new TypeError(`${where}: expected Float32Array or Float64Array, got ${describe(value)}`);
}

/** The gradient of one list item, or null to skip it. `where` is built only for an error. */
function gradOf(item: unknown, where: () => string): GradArray | null {
  let grad: unknown = item;
  let isParam = false;
  if (!(item instanceof Float32Array || item instanceof Float64Array)) {
    if (item === null || item === undefined) return null;
    if (typeof item !== 'object' || !('grad' in item)) {
      throw new TypeError(
        `${where()}: expected a Float32Array, a Float64Array or an object with a grad property, got ${describe(item)}`,
      );
    }
    grad = (item as { grad: unknown }).grad;
    if (grad === null || grad === undefined) return null;
    isParam = true;
    if (!(grad instanceof Float32Array || grad instanceof Float64Array)) throw badGrad(grad, `${where()}.grad`);
  }
  const g = grad as GradArray;
  // Only an empty view can be on a detached buffer; checking the rest would cost every call.
  if (g.length === 0 && isDetached(g)) {
    throw new TypeError(`${where()}${isParam ? '.grad' : ''}: its ArrayBuffer is detached`);
  }
  return g;
}

/** Flattens `parameters` to the gradient arrays to work on, reading an iterable exactly once. */
export function gradientsOf(parameters: unknown, name: string): GradArray[] {
  const out: GradArray[] = [];
  if (isGradArray(parameters) || isParameterLike(parameters)) {
    const g = gradOf(parameters, () => name);
    if (g) out.push(g);
    return out;
  }
  if (Array.isArray(parameters)) {
    // The common case, indexed: a training loop calls this every step with thousands of tensors.
    for (let i = 0; i < parameters.length; i++) {
      const g = gradOf(parameters[i], () => `${name}[${i}]`);
      if (g) out.push(g);
    }
    return out;
  }
  const iterable =
    typeof parameters === 'object' &&
    parameters !== null &&
    typeof (parameters as Iterable<unknown>)[Symbol.iterator] === 'function';
  if (!iterable) {
    throw new TypeError(
      `${name}: expected a gradient array, an object with a grad property, or an iterable of them, got ${describe(parameters)}`,
    );
  }
  let i = 0;
  for (const item of parameters as Iterable<unknown>) {
    const index = i++;
    const g = gradOf(item, () => `${name}[${index}]`);
    if (g) out.push(g);
  }
  return out;
}

function isParameterLike(value: unknown): value is { grad: unknown } {
  return typeof value === 'object' && value !== null && 'grad' in value;
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

const NORM_OPTION_KEYS = new Set(['normType', 'errorIfNonfinite']);

export function normOptions(options: unknown): { p: number; errorIfNonfinite: boolean } {
  if (options === undefined || options === null) return { p: 2, errorIfNonfinite: false };
  if (typeof options !== 'object') {
    throw new TypeError(`options: expected an object like { normType, errorIfNonfinite }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!NORM_OPTION_KEYS.has(key)) {
      throw new TypeError(`options.${key}: unknown option (expected normType or errorIfNonfinite)`);
    }
  }
  const o = options as NormOptions;
  return {
    p: checkNormType(o.normType as NormType | undefined, 'options.normType'),
    errorIfNonfinite: checkBoolean(o.errorIfNonfinite, 'options.errorIfNonfinite'),
  };
}
