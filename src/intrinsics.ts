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

/** `f.call(thisArg)` with `call` captured too, so a patched Function.prototype.call changes nothing. */
const call = Function.prototype.call;
const uncurry =
  <T>(f: Getter<T>) =>
  (self: unknown): T =>
    call.call(f, self) as T;

const tagOf = uncurry(getter<string | undefined>(TypedArrayPrototype, Symbol.toStringTag));
/** Elements in view (0 when detached or out of bounds of a shrunk resizable buffer). */
export const lengthOf = uncurry(getter<number>(TypedArrayPrototype, 'length')) as (a: ArrayBufferView) => number;
export const byteOffsetOf = uncurry(getter<number>(TypedArrayPrototype, 'byteOffset')) as (
  a: ArrayBufferView,
) => number;
export const bufferOf = uncurry(getter<ArrayBufferLike>(TypedArrayPrototype, 'buffer')) as (
  a: ArrayBufferView,
) => ArrayBufferLike;

const abByteLength = uncurry(getter<number>(ArrayBuffer.prototype, 'byteLength'));
const abResizable = (() => {
  const d = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable');
  return d?.get ? uncurry(d.get as Getter<boolean>) : () => false;
})();
const sabByteLength =
  typeof SharedArrayBuffer === 'function' ? uncurry(getter<number>(SharedArrayBuffer.prototype, 'byteLength')) : null;

/** 'Float32Array', 'Int8Array', ... for a real typed array of any realm; undefined for anything else (Proxies included). */
export function typedArrayKind(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? tagOf(value) : undefined;
}

/** A real Float32Array or Float64Array, from any realm, subclass or not; never a Proxy. */
export function isGradArray(value: unknown): value is GradArray {
  const tag = typedArrayKind(value);
  return tag === 'Float32Array' || tag === 'Float64Array';
}

/** Whether a grad array (already brand-checked) holds float32. */
export function isF32(a: GradArray): boolean {
  return tagOf(a) === 'Float32Array';
}

/** Whether a buffer is a SharedArrayBuffer (any realm): it can be neither detached nor shrunk. */
export function isShared(buffer: ArrayBufferLike): boolean {
  if (sabByteLength === null) return false;
  try {
    sabByteLength(buffer);
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
