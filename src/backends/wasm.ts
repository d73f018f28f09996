import { decode, encodeDouble, type HalfBits, type HalfDtype } from '../half.js';
import { bufferOf, byteOffsetOf, copyInto, halfDtypeOf, isF32, lengthOf, viewOf } from '../intrinsics.js';
import { env } from '../registry.js';
import {
  type Backend,
  BLOCK,
  type GradArray,
  StepHyper as H,
  type KernelArray,
  ReduceOp,
  StepKind,
  stepWidth,
} from './backend.js';

/**
 * The WebAssembly backend: the AssemblyScript kernels of assembly/ (SIMD or scalar build).
 * Arrays that live in a GradientBuffer's wasm memory (an arena, see allocate) are processed in place (zero-copy);
 * any other array goes through a fixed scratch region one block at a time, so no call
 * allocates in proportion to the data and no memory ever grows after it is set up —
 * growing a wasm memory would detach every view of it.
 */

interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  blockSumF32(ptr: number, n: number, squares: number, s: number): number;
  blockSumF64(ptr: number, n: number, squares: number, s: number): number;
  blockSumPowF32(ptr: number, n: number, p: number, s: number): number;
  blockSumPowF64(ptr: number, n: number, p: number, s: number): number;
  maxAbsF32(ptr: number, n: number): number;
  maxAbsF64(ptr: number, n: number): number;
  minAbsF32(ptr: number, n: number): number;
  minAbsF64(ptr: number, n: number): number;
  countNonzeroF32(ptr: number, n: number): number;
  countNonzeroF64(ptr: number, n: number): number;
  scaleF32(ptr: number, n: number, c: number): void;
  scaleF64(ptr: number, n: number, c: number): void;
  clampF32(ptr: number, n: number, lo: number, hi: number): void;
  clampF64(ptr: number, n: number, lo: number, hi: number): void;
  colSumSquaresF32(ptr: number, rows: number, cols: number, accPtr: number, s: number): void;
  colSumSquaresF64(ptr: number, rows: number, cols: number, accPtr: number, s: number): void;
  scaleColsF32(ptr: number, rows: number, cols: number, coefPtr: number): void;
  scaleColsF64(ptr: number, rows: number, cols: number, coefPtr: number): void;
  blockSumHalf(ptr: number, n: number, mode: number, p: number, s: number, bf16: boolean): number;
  extremeAbsHalf(ptr: number, n: number, isMax: boolean, bf16: boolean): number;
  countNonzeroHalf(ptr: number, n: number): number;
  scaleHalf(ptr: number, n: number, c: number, bf16: boolean): void;
  clampHalf(ptr: number, n: number, lo: number, hi: number, loBits: number, hiBits: number, bf16: boolean): void;
  sgdStepF32: SgdStep;
  sgdStepF64: SgdStep;
  adamStepF32: AdamStep;
  adamStepF64: AdamStep;
}

/** The step kernels' parameters: pointers, n, flags, then the scalars (assembly/common.ts sgdStep/adamStep). */
type SgdStep = (...args: number[]) => void;
type AdamStep = (...args: number[]) => void;

/** At least one of the two builds (the browser entry embeds only the SIMD one). */
export type WasmModules =
  | { simd?: WebAssembly.Module; scalar: WebAssembly.Module }
  | { simd: WebAssembly.Module; scalar?: WebAssembly.Module };

const PAGE = 65536;
/** One block of float64: the scratch region's size. */
const SCRATCH_BYTES = BLOCK * 8;

/** A wasm32 memory holds at most 65536 pages (4 GiB). */
const MAX_PAGES = 65536;

/** Instantiates the kernels with their memory grown, once, to hold `bytes` past the static data. */
function instantiate(module: WebAssembly.Module, bytes: number): { kernels: Kernels; base: number } {
  let kernels: Kernels;
  try {
    kernels = new WebAssembly.Instance(module, {
      env: {
        abort() {
          throw new Error('gradclip wasm: abort');
        },
      },
    }).exports as unknown as Kernels;
  } catch (err) {
    // V8 refuses a new memory once its address-space budget is spent ("Out of memory: Cannot
    // allocate Wasm memory for new instance"): said as a RangeError, like a failed grow.
    throw new RangeError(
      `gradclip wasm: cannot create a WebAssembly memory (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const base = (kernels.heapBase() + 63) & ~63;
  const pages = Math.ceil((base + bytes) / PAGE);
  if (pages > MAX_PAGES) {
    throw new RangeError(
      `gradclip wasm: ${bytes} bytes do not fit in one WebAssembly memory (at most ${MAX_PAGES * PAGE - base} bytes)`,
    );
  }
  const needed = pages - kernels.memory.buffer.byteLength / PAGE;
  if (needed > 0) {
    try {
      kernels.memory.grow(needed);
    } catch (err) {
      throw new RangeError(
        `gradclip wasm: cannot reserve ${bytes} bytes of WebAssembly memory (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
  return { kernels, base };
}

/** The wasm memories that hold GradientBuffers, by their ArrayBuffer: arrays in them are used in place. */
const arenas = new WeakMap<ArrayBufferLike, Kernels>();

export interface WasmBackend extends Backend {
  /**
   * Reserves `bytes` of wasm memory for a GradientBuffer, from `offset`; that memory never grows
   * afterwards. `spare` more bytes are left free after it in the same memory (for allocateNear).
   */
  allocate(bytes: number, spare?: number): { buffer: ArrayBuffer; offset: number };
  allocateNear(buffer: ArrayBufferLike, bytes: number): { buffer: ArrayBuffer; offset: number } | null;
  arenaStats(): { arenas: number; bytes: number; largest: number };
}

/**
 * GradientBuffers share arenas: a wasm memory is sized once when its arena is made and never grows
 * (growing would detach every view of it), and buffers are carved from it in order. A request that
 * does not fit in the current arena gets a new one of max(request, next size); sizes double from
 * 16 MiB to 1 GiB, so a model's worth of small buffers needs a handful of memories (browsers allow
 * about a hundred live ones) and one buffer per model still gets exactly one memory of its own size.
 * An arena is collected with the last view into it.
 */
const ARENA_FIRST = 16 * 2 ** 20;
const ARENA_LARGEST = 2 ** 30;

export function createWasmBackend(modules: WasmModules, preferSimd = true): WasmBackend {
  const simd = preferSimd && modules.simd !== undefined;
  const module = simd ? (modules.simd as WebAssembly.Module) : modules.scalar;
  if (!module) throw new Error('wasm: the scalar module is not in this build');
  const { kernels: scratchKernels, base: scratch } = instantiate(module, SCRATCH_BYTES);
  const scratchMemory = scratchKernels.memory.buffer;
  type Arena = { kernels: Kernels; next: number; end: number };
  let current: Arena | undefined;
  // Every arena by its ArrayBuffer, for allocateNear.
  const records = new WeakMap<ArrayBufferLike, Arena>();
  let nextArena = ARENA_FIRST;
  let arenaCount = 0;
  let handedOut = 0;

  /**
   * Runs `kernel(k, ptr, n)` over [0, length) in pieces of at most `piece` elements: in place
   * for arrays in a GradientBuffer's memory (unless `privateOnly`), else copied through the
   * scratch region (and copied back when `writes`). Pieces come in order, so sums keep the
   * block order of SPEC §6. Views are made with the engine's constructors over the array's
   * buffer: no subclass constructor, getter or species runs here.
   */
  function forPieces(
    a: KernelArray,
    size: 2 | 4 | 8,
    piece: number,
    writes: boolean,
    privateOnly: boolean,
    kernel: (k: Kernels, ptr: number, n: number) => void,
  ): void {
    const length = lengthOf(a);
    const arena = privateOnly ? undefined : arenas.get(bufferOf(a));
    if (arena) {
      const offset = byteOffsetOf(a);
      for (let start = 0; start < length; start += piece) {
        kernel(arena, offset + start * size, Math.min(piece, length - start));
      }
      return;
    }
    // 16-bit bits are copied as Uint16Array pieces (the same bytes, whichever dtype they hold).
    const buffer = bufferOf(a) as ArrayBuffer;
    const Ctor = size === 2 ? Uint16Array : size === 4 ? Float32Array : Float64Array;
    for (let start = 0; start < length; start += piece) {
      const n = Math.min(piece, length - start);
      const window = new Ctor(scratchMemory, scratch, n);
      const part = new Ctor(buffer, byteOffsetOf(a) + start * size, n);
      copyInto(window as GradArray, part as GradArray, 0);
      kernel(scratchKernels, scratch, n);
      if (writes) copyInto(part as GradArray, window as GradArray, 0);
    }
  }

  /** The 16-bit kernels (assembly/common.ts): the same blocks, lanes and tree as the float ones. */
  function reduceHalf(a: HalfBits, dtype: HalfDtype, op: ReduceOp, p: number, s: number): number {
    const bf16 = dtype === 'bfloat16';
    let acc = op === ReduceOp.MinAbs ? Number.POSITIVE_INFINITY : 0;
    let nan = false;
    if (op === ReduceOp.SumAbs || op === ReduceOp.SumSquares || op === ReduceOp.SumPow) {
      const mode = op === ReduceOp.SumAbs ? 0 : op === ReduceOp.SumSquares ? 1 : 2;
      forPieces(a, 2, BLOCK, false, mode === 2, (k, ptr, n) => {
        acc += k.blockSumHalf(ptr, n, mode, p, s, bf16);
      });
      return acc;
    }
    if (op === ReduceOp.CountNonzero) {
      forPieces(a, 2, SCRATCH_BYTES / 2, false, false, (k, ptr, n) => {
        acc += k.countNonzeroHalf(ptr, n);
      });
      return acc;
    }
    const max = op === ReduceOp.MaxAbs;
    forPieces(a, 2, SCRATCH_BYTES / 2, false, false, (k, ptr, n) => {
      const r = k.extremeAbsHalf(ptr, n, max, bf16);
      if (r !== r) nan = true;
      else if (max ? r > acc : r < acc) acc = r;
    });
    return nan ? Number.NaN : acc;
  }

  function scaleHalf(a: HalfBits, dtype: HalfDtype, coef: number): void {
    const c = decode(encodeDouble(coef, dtype), dtype);
    forPieces(a, 2, SCRATCH_BYTES / 2, true, false, (k, ptr, n) => k.scaleHalf(ptr, n, c, dtype === 'bfloat16'));
  }

  function clampHalf(a: HalfBits, dtype: HalfDtype, lo: number, hi: number): void {
    const loBits = encodeDouble(lo, dtype);
    const hiBits = encodeDouble(hi, dtype);
    const [l, h] = [decode(loBits, dtype), decode(hiBits, dtype)];
    forPieces(a, 2, SCRATCH_BYTES / 2, true, false, (k, ptr, n) =>
      k.clampHalf(ptr, n, l, h, loBits, hiBits, dtype === 'bfloat16'),
    );
  }

  function scaleOne(a: KernelArray, coef: number): void {
    const half = halfDtypeOf(a);
    if (half) scaleHalf(a as HalfBits, half, coef);
    else scaleFloat(a as GradArray, coef);
  }

  function scaleFloat(a: GradArray, coef: number): void {
    const f32 = isF32(a);
    const c = f32 ? Math.fround(coef) : coef;
    forPieces(a, f32 ? 4 : 8, f32 ? SCRATCH_BYTES / 4 : SCRATCH_BYTES / 8, true, false, (k, ptr, n) => {
      if (f32) k.scaleF32(ptr, n, c);
      else k.scaleF64(ptr, n, c);
    });
  }

  /**
   * The column kernels, always through the scratch region (in place too for arena arrays would need
   * room for the per-column accumulators in the arena): its first half holds a tile of up to 32768
   * columns' accumulators or coefficients (doubles), its second half whole rows of that tile, copied
   * in (and back, for writes) row by row. Rows come in order, so each column adds its terms in row order.
   */
  function forColumnTiles(
    a: GradArray,
    columns: number,
    writes: boolean,
    tile: (c0: number, width: number, side: Float64Array) => void,
    kernel: (ptr: number, rows: number, width: number, sidePtr: number) => void,
    done: (c0: number, width: number, side: Float64Array) => void,
  ): void {
    const f32 = isF32(a);
    const size = f32 ? 4 : 8;
    const half = SCRATCH_BYTES / 2;
    const rows = lengthOf(a) / columns;
    const dataPtr = scratch + half;
    for (let c0 = 0; c0 < columns; c0 += half / 8) {
      const width = Math.min(half / 8, columns - c0);
      const side = new Float64Array(scratchMemory, scratch, width);
      tile(c0, width, side);
      const perChunk = Math.max(1, Math.floor(half / (width * size)));
      for (let r0 = 0; r0 < rows; r0 += perChunk) {
        const count = Math.min(perChunk, rows - r0);
        const window = f32
          ? new Float32Array(scratchMemory, dataPtr, count * width)
          : new Float64Array(scratchMemory, dataPtr, count * width);
        for (let r = 0; r < count; r++) copyInto(window, viewOf(a, f32, (r0 + r) * columns + c0, width), r * width);
        kernel(dataPtr, count, width, scratch);
        if (writes) {
          for (let r = 0; r < count; r++) {
            copyInto(viewOf(a, f32, (r0 + r) * columns + c0, width), viewOf(window, f32, r * width, width), 0);
          }
        }
      }
      done(c0, width, side);
    }
  }

  function reduceOne(a: KernelArray, op: ReduceOp, p: number, s: number): number {
    const half = halfDtypeOf(a);
    if (half) return reduceHalf(a as HalfBits, half, op, p, s);
    return reduceFloat(a as GradArray, op, p, s);
  }

  function reduceFloat(a: GradArray, op: ReduceOp, p: number, s: number): number {
    const f32 = isF32(a);
    const chunk = f32 ? SCRATCH_BYTES / 4 : SCRATCH_BYTES / 8;
    let acc = op === ReduceOp.MinAbs ? Number.POSITIVE_INFINITY : 0;
    let nan = false;
    switch (op) {
      case ReduceOp.SumAbs:
      case ReduceOp.SumSquares: {
        const squares = op === ReduceOp.SumSquares ? 1 : 0;
        forPieces(a, f32 ? 4 : 8, BLOCK, false, false, (k, ptr, n) => {
          acc += f32 ? k.blockSumF32(ptr, n, squares, s) : k.blockSumF64(ptr, n, squares, s);
        });
        return acc;
      }
      case ReduceOp.SumPow:
        // Math.pow's tables are static data in linear memory, and a GradientBuffer's memory can be
        // written by anyone holding its ArrayBuffer: general-p sums run on the private instance.
        forPieces(a, f32 ? 4 : 8, BLOCK, false, true, (k, ptr, n) => {
          acc += f32 ? k.blockSumPowF32(ptr, n, p, s) : k.blockSumPowF64(ptr, n, p, s);
        });
        return acc;
      case ReduceOp.MaxAbs:
      case ReduceOp.MinAbs: {
        const max = op === ReduceOp.MaxAbs;
        forPieces(a, f32 ? 4 : 8, chunk, false, false, (k, ptr, n) => {
          const r = max
            ? f32
              ? k.maxAbsF32(ptr, n)
              : k.maxAbsF64(ptr, n)
            : f32
              ? k.minAbsF32(ptr, n)
              : k.minAbsF64(ptr, n);
          if (r !== r) nan = true;
          else if (max ? r > acc : r < acc) acc = r;
        });
        return nan ? Number.NaN : acc;
      }
      case ReduceOp.CountNonzero:
        forPieces(a, f32 ? 4 : 8, chunk, false, false, (k, ptr, n) => {
          acc += f32 ? k.countNonzeroF32(ptr, n) : k.countNonzeroF64(ptr, n);
        });
        return acc;
      default:
        throw new RangeError(`unknown reduce op ${op}`);
    }
  }

  /**
   * One group of an optimizer step (SPEC §8): in place when every array of the group lives in the
   * same GradientBuffer arena (the optimizer puts its state next to an arena-backed parameter), else
   * piece by piece through the scratch region (each array's piece side by side; all but the
   * gradient copied back).
   */
  function stepGroup(kind: StepKind, t: readonly GradArray[], h: Float64Array, s0: number, s1: number): void {
    const f32 = isF32(t[0]);
    const size = f32 ? 4 : 8;
    const length = lengthOf(t[0]);
    // The scalars in the kernels' parameter order (after pointers, n and flags): the fused clip and the
    // weight decay first, then the optimizer's own.
    const shared = [h[H.c], h[H.lo], h[H.hi], h[H.sign], h[H.weightDecay]];
    const sgd = kind === StepKind.Sgd;
    const own = sgd
      ? [h[H.momentum], h[H.damp1], h[H.negLr]]
      : [h[H.decay], h[H.beta1], h[H.omb1], h[H.beta2], h[H.omb2], h[H.eps], s0, s1];
    const flags = sgd
      ? (h[H.weightDecay] !== 0 ? 1 : 0) | (t.length > 2 ? 2 : 0) | (h[H.nesterov] !== 0 ? 4 : 0) | (s0 !== 0 ? 8 : 0)
      : (h[H.weightDecay] !== 0 ? 1 : 0) | (h[H.decoupled] !== 0 ? 2 : 0) | (t.length > 4 ? 4 : 0);
    const run = (k: Kernels, ptrs: number[], n: number): void => {
      // Pointers: SGD param, grad, buffer (0: none); Adam param, grad, m, v, vmax (0: none).
      const p = sgd ? [ptrs[0], ptrs[1], ptrs[2] ?? 0] : [ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4] ?? 0];
      const kernel = sgd ? (f32 ? k.sgdStepF32 : k.sgdStepF64) : f32 ? k.adamStepF32 : k.adamStepF64;
      kernel(...p, n, flags, ...shared, ...own);
    };
    const arena = arenas.get(bufferOf(t[0]));
    if (arena && t.every((a) => arenas.get(bufferOf(a)) === arena)) {
      run(
        arena,
        t.map((a) => byteOffsetOf(a)),
        length,
      );
      return;
    }
    const piece = Math.floor(SCRATCH_BYTES / (t.length * size));
    for (let start = 0; start < length; start += piece) {
      const n = Math.min(piece, length - start);
      const ptrs = t.map((_, j) => scratch + j * piece * size);
      const windows = ptrs.map((ptr) =>
        f32 ? new Float32Array(scratchMemory, ptr, n) : new Float64Array(scratchMemory, ptr, n),
      );
      t.forEach((a, j) => {
        copyInto(windows[j], viewOf(a, f32, start, n), 0);
      });
      run(scratchKernels, ptrs, n);
      t.forEach((a, j) => {
        if (j !== 1) copyInto(viewOf(a, f32, start, n), windows[j], 0);
      });
    }
  }

  return {
    name: 'wasm',
    isa: simd ? 'simd128' : 'scalar',
    threads: () => 1,
    setThreads: () => {},
    reduce(arrays, op, p, scales, out) {
      for (let i = 0; i < arrays.length; i++) out[i] = reduceOne(arrays[i], op, p, scales ? scales[i] : 1);
    },
    scale(arrays, coef) {
      for (const a of arrays) scaleOne(a, coef);
    },
    scaleEach(arrays, coefs) {
      for (let i = 0; i < arrays.length; i++) if (coefs[i] !== 1) scaleOne(arrays[i], coefs[i]);
    },
    clamp(arrays, lo, hi) {
      for (const x of arrays) {
        const half = halfDtypeOf(x);
        if (half) {
          clampHalf(x as HalfBits, half, lo, hi);
          continue;
        }
        const a = x as GradArray;
        const f32 = isF32(a);
        forPieces(a, f32 ? 4 : 8, f32 ? SCRATCH_BYTES / 4 : SCRATCH_BYTES / 8, true, false, (k, ptr, n) => {
          if (f32) k.clampF32(ptr, n, Math.fround(lo), Math.fround(hi));
          else k.clampF64(ptr, n, lo, hi);
        });
      }
    },
    step(kind, arrays, hyper, perTensor) {
      const width = stepWidth(kind, hyper);
      for (let i = 0, k = 0; i + width <= arrays.length; i += width, k++) {
        stepGroup(kind, arrays.slice(i, i + width), hyper, perTensor[2 * k], perTensor[2 * k + 1]);
      }
    },
    columnSumSquares(a, columns, s, out) {
      const f32 = isF32(a);
      forColumnTiles(
        a,
        columns,
        false,
        (_, __, side) => side.fill(0),
        (ptr, rows, width, accPtr) =>
          f32
            ? scratchKernels.colSumSquaresF32(ptr, rows, width, accPtr, s)
            : scratchKernels.colSumSquaresF64(ptr, rows, width, accPtr, s),
        (c0, width, side) => copyInto(out, side, c0),
      );
    },
    scaleColumns(a, columns, coefs) {
      const f32 = isF32(a);
      forColumnTiles(
        a,
        columns,
        true,
        (c0, width, side) => copyInto(side, coefs.subarray(c0, c0 + width), 0),
        (ptr, rows, width, coefPtr) =>
          f32
            ? scratchKernels.scaleColsF32(ptr, rows, width, coefPtr)
            : scratchKernels.scaleColsF64(ptr, rows, width, coefPtr),
        () => {},
      );
    },
    allocate(bytes, spare = 0) {
      const size = Math.ceil(bytes / 64) * 64;
      const need = size + Math.ceil(spare / 64) * 64;
      if (current && current.end - current.next >= need) {
        const offset = current.next;
        current.next += size;
        handedOut += size;
        return { buffer: current.kernels.memory.buffer as ArrayBuffer, offset };
      }
      const capacity = Math.max(need, nextArena);
      let made: { kernels: Kernels; base: number };
      try {
        made = instantiate(module, capacity);
      } catch (err) {
        if (capacity === need) throw err;
        made = instantiate(module, need); // the doubled arena did not fit: try the request alone
      }
      arenaCount++;
      nextArena = Math.min(2 * nextArena, ARENA_LARGEST);
      const { kernels, base } = made;
      arenas.set(kernels.memory.buffer, kernels);
      const arena = { kernels, next: base + size, end: kernels.memory.buffer.byteLength };
      records.set(kernels.memory.buffer, arena);
      // Keep carving from whichever arena has more room left.
      if (!current || arena.end - arena.next > current.end - current.next) current = arena;
      handedOut += size;
      return { buffer: kernels.memory.buffer as ArrayBuffer, offset: base };
    },
    allocateNear(buffer, bytes) {
      const arena = records.get(buffer);
      const size = Math.ceil(bytes / 64) * 64;
      if (!arena || arena.end - arena.next < size) return null;
      const offset = arena.next;
      arena.next += size;
      handedOut += size;
      return { buffer: arena.kernels.memory.buffer as ArrayBuffer, offset };
    },
    arenaStats: () => ({ arenas: arenaCount, bytes: handedOut, largest: MAX_PAGES * PAGE - scratch }),
  };
}

/**
 * The wasm backend from modules a runtime handed over as imports (workerd, edge-light): checks they
 * are compiled modules (a bundler that loads `.wasm` as bytes gives an ArrayBuffer instead), and
 * falls back to the scalar module when the SIMD one cannot be instantiated, saying so in
 * getBackend().fallbacks.
 */
export function wasmFromImports(simd: unknown, scalar: unknown): Backend {
  const isModule = (m: unknown): m is WebAssembly.Module =>
    typeof WebAssembly !== 'undefined' && m instanceof WebAssembly.Module;
  if (!isModule(scalar) || !isModule(simd)) {
    const got = Object.prototype.toString.call(isModule(scalar) ? simd : scalar).slice(8, -1);
    throw new TypeError(
      `the imported .wasm files arrived as ${got}, not as WebAssembly.Module: this runtime compiles ` +
        'wasm only at load, so the bundler must pass .wasm imports through as compiled modules ' +
        "(Wrangler and Miniflare: a 'CompiledWasm' rule for **/*.wasm, their default), or use gradclip's browser entry",
    );
  }
  try {
    return createWasmBackend({ simd, scalar }, true);
  } catch (err) {
    const backend = createWasmBackend({ scalar }, false);
    const why = err instanceof Error ? err.message : String(err);
    return {
      ...backend,
      notes: [`wasm: the SIMD module could not be instantiated (${why.slice(0, 200)}); using the scalar one`],
    };
  }
}

/** Decodes base64 without Buffer (browsers, Deno, workers). */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Compiles the embedded modules; the SIMD one only where WebAssembly.validate accepts it. */
export function embeddedModules(simdBase64: string, scalarBase64: string): WasmModules {
  if (typeof WebAssembly === 'undefined') throw new Error('this runtime has no WebAssembly');
  const simdBytes = fromBase64(simdBase64);
  return {
    simd: WebAssembly.validate(simdBytes) ? new WebAssembly.Module(simdBytes) : undefined,
    scalar: new WebAssembly.Module(fromBase64(scalarBase64)),
  };
}

/** GRADCLIP_WASM=scalar forces the non-SIMD module (tests use it to run both). */
export function preferSimd(): boolean {
  return env('GRADCLIP_WASM') !== 'scalar';
}
