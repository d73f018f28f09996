import { describe } from './args.js';
import { type HalfDtype, HalfGradient } from './half.js';
import { activeBackend } from './registry.js';

/**
 * Gradient storage for high-throughput loops: one allocation holding a view per parameter.
 * On the wasm backend it lives in WebAssembly memory, so clipping works on it in place with no
 * copy. Buffers share arenas: each is a wasm memory sized once and never grown (so no view is ever
 * detached), 16 MiB for the first and doubling up to 1 GiB, with a buffer larger than that in a
 * memory of its own size; 10,000 small buffers live in one or two memories. Buffers in one arena
 * share an ArrayBuffer, so `views[i].buffer` also spans other buffers' storage. On the native and js backends the views are ordinary arrays over one ArrayBuffer,
 * so code written against GradientBuffer runs unchanged everywhere.
 */
export type GradDtype = 'float32' | 'float64';
/** A GradientBuffer's dtype: float32/float64 arrays, or 16-bit gradients as raw bits (float16(), bfloat16()). */
export type BufferDtype = GradDtype | HalfDtype;
/**
 * The view type of a dtype: `Float32Array` for 'float32', `Float64Array` for 'float64', and for 'float16' /
 * 'bfloat16' a HalfGradient (what `float16(bits)` / `bfloat16(bits)` return) whose `bits` Uint16Array is
 * the storage.
 */
export type ViewOf<D extends BufferDtype> = D extends 'float64'
  ? Float64Array
  : D extends HalfDtype
    ? HalfGradient
    : Float32Array;

const WIDTH: Record<BufferDtype, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };

export class GradientBuffer<D extends BufferDtype = 'float32'> {
  /** One view per requested size, in order; write gradients into these and clip them. */
  readonly views: ViewOf<D>[];
  readonly dtype: D;
  /** Bytes reserved (views are 64-byte aligned). */
  readonly byteLength: number;
  /**
   * One view over exactly this buffer's bytes (every view, and the padding between them), for
   * whole-buffer work such as `flat.fill(0)` (16-bit: `flat.bits.fill(0)`). Use it, not `new
   * Float32Array(views[0].buffer)`: on the wasm backend buffers share an arena, so `views[0].buffer` also
   * holds other buffers' gradients.
   */
  readonly flat: ViewOf<D>;

  /**
   * `reserve`: bytes to keep free right after this buffer in the same wasm memory (wasm backend; ignored
   * elsewhere), where an optimizer puts its state beside the parameters (optim.SGD's momentum buffers,
   * Adam's moments), so its steps run in place. E.g. parameters and gradients in one buffer with room for
   * SGD's momentum: `new GradientBuffer([...sizes, ...sizes], { reserve: GradientBuffer.bytesFor(sizes) })`.
   *
   * `dtype`: 'float32' (default), 'float64', or 'float16' / 'bfloat16' for mixed-precision gradients: each
   * view is then a 16-bit gradient (`views[i].bits` is its Uint16Array of bit patterns), which every clip
   * and norm function takes — in place in wasm memory on the wasm backend.
   */
  constructor(sizes: Iterable<number>, options: { dtype?: D; reserve?: number } = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options: expected an object like { dtype: 'float32' }, got ${describe(options)}`);
    }
    const dtype = (options.dtype ?? 'float32') as D;
    if (typeof dtype !== 'string' || !Object.hasOwn(WIDTH, dtype)) {
      throw new RangeError(
        `options.dtype: expected 'float32', 'float64', 'float16' or 'bfloat16', got ${describe(dtype)}`,
      );
    }
    if (sizes === null || typeof (sizes as Iterable<number>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`sizes: expected an iterable of element counts, got ${describe(sizes)}`);
    }
    const reserve = options.reserve ?? 0;
    if (typeof reserve !== 'number')
      throw new TypeError(`options.reserve: expected a number of bytes, got ${describe(reserve)}`);
    if (!Number.isSafeInteger(reserve) || reserve < 0) {
      throw new RangeError(`options.reserve: expected an integer number of bytes >= 0, got ${reserve}`);
    }
    const counts = Array.from(sizes);
    counts.forEach((n, i) => {
      if (typeof n !== 'number') throw new TypeError(`sizes[${i}]: expected a number, got ${describe(n)}`);
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`sizes[${i}]: expected an integer >= 0, got ${n}`);
    });
    const width = WIDTH[dtype];
    const offsets: number[] = [];
    let total = 0;
    for (const n of counts) {
      offsets.push(total);
      total += Math.ceil((n * width) / 64) * 64;
    }
    const backend = activeBackend();
    const stats = backend.arenaStats?.();
    if (stats && total + reserve > stats.largest) {
      throw new RangeError(
        `sizes: these views need ${total} bytes${reserve ? ` (and ${reserve} reserved)` : ''}; one GradientBuffer on the ${backend.name} backend holds at most ` +
          `${stats.largest} (a wasm32 memory is at most 4 GiB): split the gradients over several buffers`,
      );
    }
    let place: { buffer: ArrayBuffer; offset: number };
    try {
      place = backend.allocate ? backend.allocate(total, reserve) : { buffer: new ArrayBuffer(total), offset: 0 };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new RangeError(
        `GradientBuffer: cannot reserve ${total} bytes on the ${backend.name} backend (${why})` +
          (stats
            ? `. ${stats.arenas} WebAssembly memories already hold ${stats.bytes} bytes of GradientBuffers, and a ` +
              'runtime allows only so many (Chromium: about 100): drop the buffers you no longer use, or use ' +
              'fewer, larger ones (one per model)'
            : ''),
      );
    }
    const { buffer, offset } = place;
    const view = (byteOffset: number, n: number): ViewOf<D> => {
      if (dtype === 'float16' || dtype === 'bfloat16') {
        return new HalfGradient(new Uint16Array(buffer, byteOffset, n), dtype) as ViewOf<D>;
      }
      return new (dtype === 'float64' ? Float64Array : Float32Array)(buffer, byteOffset, n) as ViewOf<D>;
    };
    this.views = counts.map((n, i) => view(offset + offsets[i], n));
    this.flat = view(offset, total / width);
    this.dtype = dtype;
    this.byteLength = total;
  }

  /** The bytes a GradientBuffer of these sizes takes (views 64-byte aligned): for `reserve`. */
  static bytesFor(sizes: Iterable<number>, dtype: BufferDtype = 'float32'): number {
    if (typeof dtype !== 'string' || !Object.hasOwn(WIDTH, dtype)) {
      throw new RangeError(`dtype: expected 'float32', 'float64', 'float16' or 'bfloat16', got ${describe(dtype)}`);
    }
    const width = WIDTH[dtype];
    let total = 0;
    for (const n of sizes) total += Math.ceil((n * width) / 64) * 64;
    return total;
  }

  /** Sets every gradient to 0 (optimizer.zero_grad()). */
  zero(): void {
    const flat = this.flat as Float32Array | Float64Array | HalfGradient;
    if (flat instanceof HalfGradient) flat.bits.fill(0);
    else flat.fill(0);
  }
}
