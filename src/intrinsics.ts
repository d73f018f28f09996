import type { GradArray } from './backends/backend.js';

/**
 * The engine's own accessors for typed arrays, captured when gradclip loads. Everything
 * gradclip learns about a gradient array (is it a Float32Array, how long, which buffer,
 * where in it) comes from these, never from the array's JS-visible properties: an own
 * `length`, a subclass getter, a Proxy or a species constructor is user code, and user code
 * must not run between the check of an array and the kernels' use of its memory. They read
 * internal slots, so they also recognise typed arrays from other realms (vm contexts, iframes),
 * which `instanceof` does not.
 */

type Getter<T> = (this: unknown) => T;

const TypedArrayPrototype = Object.getPrototypeOf(Float32Array.prototype) as object;

function getter<T>(proto: object, key: PropertyKey): Getter<T> {
  const d = Object.getOwnPropertyDescriptor(proto, key);
  if (!d?.get) throw new Error(`gradclip: the runtime has no ${String(key)} accessor`);
  return d.get as Getter<T>;
}

// `call.call(getter, x)` is `getter.call(x)` with Function.prototype.call captured too, so a
// patched `call` changes nothing. Each accessor has its own call site (no shared helper): a call
// site that always sees the same getter is inlined by the JIT, a shared one is not.
const call = Function.prototype.call;
const TAG = getter<string | undefined>(TypedArrayPrototype, Symbol.toStringTag);
const LENGTH = getter<number>(TypedArrayPrototype, 'length');
const BYTE_OFFSET = getter<number>(TypedArrayPrototype, 'byteOffset');
const BUFFER = getter<ArrayBufferLike>(TypedArrayPrototype, 'buffer');
const AB_BYTE_LENGTH = getter<number>(ArrayBuffer.prototype, 'byteLength');
const AB_RESIZABLE = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get as
  | Getter<boolean>
  | undefined;
const SAB_BYTE_LENGTH =
  typeof SharedArrayBuffer === 'function' ? getter<number>(SharedArrayBuffer.prototype, 'byteLength') : undefined;

const tagOf = (x: unknown): string | undefined => call.call(TAG, x) as string | undefined;
/** Elements in view (0 when detached or out of bounds of a shrunk resizable buffer). */
export const lengthOf = (a: ArrayBufferView): number => call.call(LENGTH, a) as number;
export const byteOffsetOf = (a: ArrayBufferView): number => call.call(BYTE_OFFSET, a) as number;
export const bufferOf = (a: ArrayBufferView): ArrayBufferLike => call.call(BUFFER, a) as ArrayBufferLike;
const abByteLength = (b: ArrayBufferLike): number => call.call(AB_BYTE_LENGTH, b) as number;
const abResizable = (b: ArrayBufferLike): boolean => (AB_RESIZABLE ? (call.call(AB_RESIZABLE, b) as boolean) : false);

/** 'Float32Array', 'Int8Array', ... for a real typed array of any realm; undefined for anything else (Proxies included). */
export function typedArrayKind(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? tagOf(value) : undefined;
}

/** A real Float32Array or Float64Array, from any realm, subclass or not; never a Proxy. */
export function isGradArray(value: unknown): value is GradArray {
  // ArrayBuffer.isView (internal slots, no property read) turns away plain objects cheaply; the tag decides.
  if (!ArrayBuffer.isView(value)) return false;
  const tag = tagOf(value);
  return tag === 'Float32Array' || tag === 'Float64Array';
}

/** The 16-bit dtype of a kernel array: a Uint16Array holds float16 bits, an Int16Array bfloat16 bits (src/half.ts). */
export function halfDtypeOf(a: ArrayBufferView): 'float16' | 'bfloat16' | undefined {
  const tag = tagOf(a);
  return tag === 'Uint16Array' ? 'float16' : tag === 'Int16Array' ? 'bfloat16' : undefined;
}

/** Whether a grad array (already brand-checked) holds float32. */
export function isF32(a: GradArray): boolean {
  return tagOf(a) === 'Float32Array';
}

/** Whether a buffer is a SharedArrayBuffer (any realm): it can be neither detached nor shrunk. */
export function isShared(buffer: ArrayBufferLike): boolean {
  if (SAB_BYTE_LENGTH === undefined) return false;
  try {
    call.call(SAB_BYTE_LENGTH, buffer);
    return true;
  } catch {
    return false;
  }
}

/** A non-shared ArrayBuffer that can be resized (its memory can shrink under a view). */
export function isResizable(buffer: ArrayBufferLike): boolean {
  return !isShared(buffer) && abResizable(buffer);
}

/**
 * Whether an empty view's buffer is detached. Only a 0-byte ArrayBuffer can be detached, so
 * a non-empty buffer (of any size, beyond 4 GiB too) answers at once; for an empty one,
 * making a view of it throws only when it is detached.
 */
export function isDetachedView(a: ArrayBufferView): boolean {
  const buffer = bufferOf(a);
  if (isShared(buffer)) return false;
  if (abByteLength(buffer) > 0) return false;
  try {
    new Uint8Array(buffer as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

const F32 = Float32Array;
const F64 = Float64Array;

/**
 * A fresh view of the engine's own constructor over [start, start + n) of `a`'s elements: what the
 * wasm backend copies through, instead of `subarray` (which runs the subclass's constructor).
 */
export function viewOf(a: GradArray, f32: boolean, start: number, n: number): GradArray {
  const buffer = bufferOf(a) as ArrayBuffer;
  return f32 ? new F32(buffer, byteOffsetOf(a) + start * 4, n) : new F64(buffer, byteOffsetOf(a) + start * 8, n);
}

const typedArraySet = TypedArrayPrototype as { set(this: unknown, src: ArrayLike<number>, offset?: number): void };
const setFn = typedArraySet.set;
/** target.set(source, offset) with the engine's own `set`. */
export function copyInto(target: GradArray, source: GradArray, offset: number): void {
  call.call(setFn, target, source, offset);
}
