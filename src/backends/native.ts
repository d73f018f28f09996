import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, GradArray, ReduceOp } from './backend.js';

/**
 * The Node-API addon (native/), loaded through node-gyp-build: a prebuilt binary from
 * prebuilds/ first, then a local build in build/Release. Node only: this module is
 * registered by src/index.ts, never by the browser/edge entries.
 */

/** A list unpacked by the addon once (see PreparedList in native/binding.cc). */
type Prepared = { readonly __prepared: unique symbol };
type ListArg = readonly GradArray[] | Prepared;

interface Binding {
  prepare(arrays: readonly GradArray[]): Prepared;
  reduce(arrays: ListArg, op: number, p: number, scales: Float64Array | null, out: Float64Array): void;
  scale(arrays: ListArg, coef: number): void;
  clamp(arrays: ListArg, lo: number, hi: number): void;
  reduceAsync(
    arrays: readonly GradArray[],
    op: number,
    p: number,
    scales: Float64Array | null,
    out: Float64Array,
  ): Promise<void>;
  scaleAsync(arrays: readonly GradArray[], coef: number): Promise<void>;
  clampAsync(arrays: readonly GradArray[], lo: number, hi: number): Promise<void>;
  info(): NativeInfo;
  setThreads(n: number): void;
  setIsa(isa: string): boolean;
  setParallelThreshold(n: number): void;
  /** Benchmark probe: one plain read pass over the arrays' bytes. */
  probeRead(arrays: ListArg): number;
}

export interface NativeInfo {
  isa: string;
  threads: number;
  parallelThreshold: number;
  /** Why GRADCLIP_ISA was not honoured, or ''. */
  isaNote: string;
  /** Kernel sets this CPU can run, best first. */
  supported: string[];
  block: number;
  lanes: number;
}

/** The folder holding gradclip's package.json (src/backends/ in development, dist/ when installed). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'gradclip') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the gradclip package folder');
}

let binding: Binding | undefined;

function loadBinding(): Binding {
  if (binding) return binding;
  const root = packageRoot();
  const require = createRequire(join(root, 'package.json'));
  try {
    binding = require('node-gyp-build')(root) as Binding;
  } catch (err) {
    const failure = join(root, 'build', 'native-build-failure.txt');
    const why = existsSync(failure) ? ` (install-time build failed: ${readFileSync(failure, 'utf8').trim()})` : '';
    throw new Error(`no addon loaded: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}${why}`);
  }
  return binding;
}

/** Test and benchmark hooks: the addon's own view, ISA forcing, the parallel threshold. */
export function nativeBinding(): Binding {
  return loadBinding();
}

/**
 * The last list handed to the addon, unpacked. A training loop clips the same arrays every
 * step, and unpacking costs ~0.2 µs per array through Node-API, so a list made of the same
 * arrays with the same lengths reuses it (a detached or resized array has another length).
 */
function preparedLists(b: Binding) {
  let arrays: readonly GradArray[] = [];
  let lengths: number[] = [];
  let handle: Prepared | undefined;
  return (list: readonly GradArray[]): Prepared => {
    if (handle && list.length === arrays.length) {
      let same = true;
      for (let i = 0; i < list.length; i++) {
        if (list[i] !== arrays[i] || list[i].length !== lengths[i]) {
          same = false;
          break;
        }
      }
      if (same) return handle;
    }
    handle = b.prepare(list);
    arrays = list.slice();
    lengths = list.map((a) => a.length);
    return handle;
  };
}

export function loadNative(): Backend {
  const b = loadBinding();
  const prepared = preparedLists(b);
  const note = b.info().isaNote;
  const backend: Backend = {
    name: 'native',
    get isa() {
      return b.info().isa;
    },
    notes: note ? [`native: ${note}`] : [],
    threads: () => b.info().threads,
    setThreads: (n) => b.setThreads(n),
    reduce: (arrays, op: ReduceOp, p, scales, out) => b.reduce(prepared(arrays), op, p, scales, out),
    scale: (arrays, coef) => b.scale(prepared(arrays), coef),
    clamp: (arrays, lo, hi) => b.clamp(prepared(arrays), lo, hi),
    reduceAsync: (arrays, op: ReduceOp, p, scales, out) => b.reduceAsync(arrays, op, p, scales, out),
    scaleAsync: (arrays, coef) => b.scaleAsync(arrays, coef),
    clampAsync: (arrays, lo, hi) => b.clampAsync(arrays, lo, hi),
  };
  return backend;
}
