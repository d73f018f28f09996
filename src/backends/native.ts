import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markAsUntransferable } from 'node:worker_threads';
import { lengthsSnapshot } from '../args.js';
import { bufferOf, isShared, lengthOf } from '../intrinsics.js';
import type { Backend, KernelArray, ReduceOp, StepKind } from './backend.js';

/**
 * The Node-API addon (native/), loaded through node-gyp-build: a prebuilt binary from
 * prebuilds/ first, then a local build in build/Release. Node only: this module is
 * registered by src/index.ts, never by the browser/edge entries.
 */

/** Names one of the addon's two unpacked lists (see Instance::slots in native/binding.cc); never reused. */
type Token = number;
type ListArg = readonly KernelArray[] | Token;

interface Binding {
  /** Unpacks `arrays` in place of the list named `evict` (else the older one); returns its token. */
  prepare(arrays: readonly KernelArray[], evict?: Token): Token;
  reduce(arrays: ListArg, op: number, p: number, scales: Float64Array | null, out: Float64Array): void;
  scale(arrays: ListArg, coef: number): void;
  scaleEach(arrays: ListArg, coefs: Float64Array): void;
  clamp(arrays: ListArg, lo: number, hi: number): void;
  columnSumSquares(a: KernelArray, columns: number, s: number, out: Float64Array): void;
  scaleColumns(a: KernelArray, columns: number, coefs: Float64Array): void;
  reduceAsync(
    arrays: readonly KernelArray[],
    op: number,
    p: number,
    scales: Float64Array | null,
    out: Float64Array,
  ): Promise<void>;
  scaleAsync(arrays: readonly KernelArray[], coef: number): Promise<void>;
  scaleEachAsync(arrays: readonly KernelArray[], coefs: Float64Array): Promise<void>;
  clampAsync(arrays: readonly KernelArray[], lo: number, hi: number): Promise<void>;
  step(arrays: ListArg, kind: number, hyper: Float64Array, perTensor: Float64Array): void;
  stepAsync(arrays: readonly KernelArray[], kind: number, hyper: Float64Array, perTensor: Float64Array): Promise<void>;
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
  /** The most threads setThreads accepts (kMaxThreads in native/engine.h). */
  maxThreads: number;
  /** Pool threads alive in this environment. */
  poolThreads: number;
  parallelThreshold: number;
  /** Why GRADCLIP_ISA was not honoured, or ''. */
  isaNote: string;
  /** Kernel sets this CPU can run, best first. */
  supported: string[];
  block: number;
  lanes: number;
}

/** This package's version, set by the build (tsup `define`); undefined when run from source. */
declare const __GRADCLIP_VERSION__: string | undefined;
const VERSION = typeof __GRADCLIP_VERSION__ === 'string' ? __GRADCLIP_VERSION__ : undefined;

/** The file this code runs from: import.meta.url in ESM, __filename in a CommonJS bundle. */
function thisFile(): string | undefined {
  try {
    if (typeof import.meta.url === 'string') return fileURLToPath(import.meta.url);
  } catch {
    // not a file: URL, or no import.meta in this format
  }
  return typeof __filename === 'string' ? __filename : undefined;
}

function readName(pkg: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(pkg, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The folder holding gradclip's package.json (src/backends/ in development, dist/ when installed),
 * where prebuilds/ and build/ are. When gradclip was bundled into someone's file, that folder is
 * not above the bundle: an installed gradclip of the same version next to the bundle is used
 * instead, else the error says what to do.
 */
export function packageRoot(): string {
  const file = thisFile();
  if (file) {
    let dir = dirname(file);
    for (let i = 0; i < 5; i++) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && readName(pkg)?.name === 'gradclip') return dir;
      dir = dirname(dir);
    }
    let installed: string | undefined;
    try {
      installed = createRequire(file).resolve('gradclip/package.json');
    } catch {
      installed = undefined;
    }
    const meta = installed ? readName(installed) : undefined;
    if (installed && meta?.name === 'gradclip' && (VERSION === undefined || meta.version === VERSION)) {
      return dirname(installed);
    }
    if (installed && meta?.name === 'gradclip') {
      throw new Error(
        `gradclip ${VERSION} was bundled into ${file}, and the gradclip installed next to it is ${meta.version}: ` +
          'the native addon is only used from the same version (install that, or mark gradclip as external)',
      );
    }
  }
  throw new Error(
    `gradclip was bundled${file ? ` into ${file}` : ''}: the native addon is loaded from gradclip's own package ` +
      'folder (prebuilds/), which a bundle does not contain. Mark gradclip as external (esbuild ' +
      '--external:gradclip, webpack `externals`, Rollup/Vite `external`) and install it next to the bundle; ' +
      'until then gradclip runs on its wasm backend',
  );
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
 * The last two lists handed to the addon, unpacked. A training loop clips the same arrays every
 * step, and unpacking costs ~0.2 µs per array through Node-API, so a list made of the same
 * arrays with the same lengths reuses one. Lengths come from the engine's accessor (lengthOf, or
 * the facade's reading of it for the call now running), never from a `length` property user code
 * can define, and nothing runs between this check and the addon's use of the pointers: a detached array reads 0, a shrunk resizable buffer another
 * length, and either sends the list back to prepare(). The slots hold the arrays themselves
 * (two lists at most), which keeps their memory alive while the addon keeps pointers into it;
 * no finalizer is involved, so nothing accumulates in a loop that never yields.
 */
function preparedLists(b: Binding) {
  type Entry = { arrays: readonly KernelArray[]; lengths: readonly number[]; token: Token; used: number };
  const none = (): Entry => ({ arrays: [], lengths: [], token: 0, used: 0 });
  const entries: [Entry, Entry] = [none(), none()];
  let clock = 0;
  const matches = (entry: Entry, list: readonly KernelArray[]): boolean => {
    const { arrays, lengths } = entry;
    if (list.length !== arrays.length || list.length === 0) return false;
    const known = lengthsSnapshot(list);
    if (known) {
      for (let i = 0; i < list.length; i++) if (list[i] !== arrays[i] || known[i] !== lengths[i]) return false;
      return true;
    }
    for (let i = 0; i < list.length; i++) if (list[i] !== arrays[i] || lengthOf(list[i]) !== lengths[i]) return false;
    return true;
  };
  const tokenFor = (list: readonly KernelArray[]): Token => {
    const hit = matches(entries[0], list) ? entries[0] : matches(entries[1], list) ? entries[1] : undefined;
    if (hit) {
      hit.used = ++clock;
      return hit.token;
    }
    const k = entries[0].used <= entries[1].used ? 0 : 1;
    const arrays = list.slice();
    const lengths = lengthsSnapshot(list)?.slice() ?? arrays.map(lengthOf);
    const token = b.prepare(arrays, entries[k].token);
    entries[k] = { arrays, lengths, token, used: ++clock };
    return token;
  };
  const reset = () => {
    entries[0] = none();
    entries[1] = none();
  };
  return { tokenFor, reset };
}

/** The addon's answer to a token whose list it no longer has (a test or the bench called prepare). */
function isStale(err: unknown): boolean {
  return err instanceof RangeError && err.message.includes('stale list token');
}

/**
 * Makes the arrays' memory stay where it is while a libuv thread works on it: every
 * non-shared ArrayBuffer is marked untransferable (node:worker_threads markAsUntransferable),
 * so postMessage/structuredClone copy it instead of moving it (Node 20) and
 * ArrayBuffer.prototype.transfer() throws (newer Node, through V8's detach key). Node has no
 * way to undo the mark. SharedArrayBuffers cannot be detached or shrunk and are left alone;
 * resizable ArrayBuffers were refused by the facade.
 */
function pinForAsync(arrays: readonly KernelArray[]): void {
  for (const a of arrays) {
    const buffer = bufferOf(a);
    if (!isShared(buffer)) markAsUntransferable(buffer);
  }
}

/** Bun's markAsUntransferable does not stop ArrayBuffer.prototype.transfer(): there the async calls run on the JS thread. */
const offThread = !(globalThis as { process?: { versions?: { bun?: string } } }).process?.versions?.bun;

export function loadNative(): Backend {
  const b = loadBinding();
  const { tokenFor, reset } = preparedLists(b);
  const note = b.info().isaNote;
  // Runs a synchronous list call; on a stale token (the addon's slots were replaced behind our
  // back), unpacks the list again, once.
  const withToken = (arrays: readonly KernelArray[], call: (token: Token) => void): void => {
    try {
      call(tokenFor(arrays));
    } catch (err) {
      if (!isStale(err)) throw err;
      reset();
      call(tokenFor(arrays));
    }
  };
  const backend: Backend = {
    name: 'native',
    get isa() {
      return b.info().isa;
    },
    notes: note ? [`native: ${note}`] : [],
    threads: () => b.info().threads,
    setThreads: (n) => b.setThreads(n),
    reduce(arrays, op: ReduceOp, p, scales, out) {
      withToken(arrays, (token) => b.reduce(token, op, p, scales, out));
    },
    scale(arrays, coef) {
      withToken(arrays, (token) => b.scale(token, coef));
    },
    scaleEach(arrays, coefs) {
      withToken(arrays, (token) => b.scaleEach(token, coefs));
    },
    clamp(arrays, lo, hi) {
      withToken(arrays, (token) => b.clamp(token, lo, hi));
    },
    step(kind: StepKind, arrays, hyper, perTensor) {
      withToken(arrays, (token) => b.step(token, kind, hyper, perTensor));
    },
    columnSumSquares: (a, columns, s, out) => b.columnSumSquares(a, columns, s, out),
    scaleColumns: (a, columns, coefs) => b.scaleColumns(a, columns, coefs),
  };
  if (offThread) {
    backend.reduceAsync = (arrays, op: ReduceOp, p, scales, out) => {
      pinForAsync(arrays);
      return b.reduceAsync(arrays, op, p, scales, out);
    };
    backend.scaleAsync = (arrays, coef) => {
      pinForAsync(arrays);
      return b.scaleAsync(arrays, coef);
    };
    backend.scaleEachAsync = (arrays, coefs) => {
      pinForAsync(arrays);
      return b.scaleEachAsync(arrays, coefs);
    };
    backend.stepAsync = (kind: StepKind, arrays, hyper, perTensor) => {
      pinForAsync(arrays);
      return b.stepAsync(arrays, kind, hyper, perTensor);
    };
    backend.clampAsync = (arrays, lo, hi) => {
      pinForAsync(arrays);
      return b.clampAsync(arrays, lo, hi);
    };
  }
  return backend;
}
