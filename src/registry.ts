import { describe } from './args.js';
import type { Backend, BackendName } from './backends/backend.js';
import { jsBackend } from './backends/js.js';
import type { BackendInfo } from './types.js';

/**
 * Which backend runs the kernels. Loaders for the optional backends are registered
 * by the entry point of each runtime (src/index.ts for Node), so a browser bundle
 * never sees a require of a .node file. A loader throws an Error saying why its
 * backend is unavailable; that reason is kept in `fallbacks`, never thrown at import.
 */

export type BackendLoader = () => Backend;

const AUTO_ORDER: readonly BackendName[] = ['native', 'wasm', 'js'];

/**
 * The registry's state lives on globalThis under a Symbol.for key, so that two copies of gradclip
 * in one realm — the ESM and the CommonJS build loaded side by side, or two bundles on a page —
 * share one backend choice instead of each keeping its own (the dual-package hazard). The first
 * copy to load registers its loaders and makes the choice; later copies use them.
 */
interface RegistryState {
  loaders: Map<BackendName, BackendLoader>;
  loaded: Map<BackendName, Backend>;
  failures: Map<BackendName, string>;
  active: Backend;
  fallbacks: string[];
  requestedThreads: number | undefined;
  initialized: boolean;
}

export const REGISTRY_KEY = Symbol.for('gradclip.registry.v1');

function sharedState(): RegistryState {
  const holder = globalThis as unknown as Record<symbol, RegistryState | undefined>;
  let state = holder[REGISTRY_KEY];
  if (!state) {
    state = {
      loaders: new Map([['js', () => jsBackend]]),
      loaded: new Map(),
      failures: new Map(),
      active: jsBackend,
      fallbacks: [],
      requestedThreads: undefined,
      initialized: false,
    };
    Object.defineProperty(holder, REGISTRY_KEY, { value: state, configurable: true });
  }
  return state;
}

const state = sharedState();
const { loaders, loaded, failures } = state;

/** Registers a loader, unless another copy of gradclip sharing this state registered one first. */
export function registerBackend(name: BackendName, loader: BackendLoader): void {
  if (loaders.has(name)) return;
  loaders.set(name, loader);
}

function tryLoad(name: BackendName): Backend | string {
  const done = loaded.get(name);
  if (done) return done;
  const failed = failures.get(name);
  if (failed !== undefined) return failed;
  const loader = loaders.get(name);
  if (!loader) {
    const why = `${name}: not available in this build or runtime`;
    failures.set(name, why);
    return why;
  }
  try {
    const backend = loader();
    if (state.requestedThreads !== undefined) backend.setThreads(state.requestedThreads);
    loaded.set(name, backend);
    return backend;
  } catch (err) {
    const why = `${name}: ${err instanceof Error ? err.message : String(err)}`;
    failures.set(name, why);
    return why;
  }
}

function selectAuto(skipped: string[]): Backend {
  const reasons = [...skipped];
  for (const name of AUTO_ORDER) {
    const got = tryLoad(name);
    if (typeof got !== 'string') {
      state.fallbacks = reasons;
      state.active = got;
      return got;
    }
    reasons.push(got);
  }
  // js has no failure mode; keep the compiler satisfied.
  state.fallbacks = reasons;
  state.active = jsBackend;
  return jsBackend;
}

export function activeBackend(): Backend {
  return state.active;
}

export function getBackend(): BackendInfo {
  const active = state.active;
  return {
    name: active.name,
    isa: active.isa,
    threads: active.threads(),
    fallbacks: [...state.fallbacks, ...(active.notes ?? [])],
  };
}

const CHOICES = new Set(['auto', 'native', 'wasm', 'js']);

/** Switches backend. 'auto' tries native, wasm, js in order; a named one throws, saying why, if unavailable. */
export function setBackend(name: 'auto' | BackendName): BackendInfo {
  if (typeof name !== 'string') {
    throw new TypeError(`name: expected 'auto', 'native', 'wasm' or 'js', got ${describe(name)}`);
  }
  if (!CHOICES.has(name))
    throw new RangeError(`name: expected 'auto', 'native', 'wasm' or 'js', got ${describe(name)}`);
  if (name === 'auto') {
    selectAuto([]);
    return getBackend();
  }
  const got = tryLoad(name);
  if (typeof got === 'string') throw new Error(`setBackend('${name}') failed: ${got}`);
  const skipped: string[] = [];
  for (const other of AUTO_ORDER) {
    if (other === name) break;
    skipped.push(`${other}: not tried (setBackend('${name}'))`);
  }
  state.fallbacks = skipped;
  state.active = got;
  return getBackend();
}

/**
 * The most threads the native backend uses (kMaxThreads in native/engine.h). The kernels are
 * memory-bound: threads beyond the cores only cost.
 */
export const MAX_THREADS = 256;

/**
 * Threads for the native backend's pool (1 = single thread), at most MAX_THREADS. Other backends
 * ignore it. The setting belongs to the calling thread's environment: the main thread and each
 * worker_thread have their own pool and their own count.
 */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number') throw new TypeError(`n: expected an integer from 1 to ${MAX_THREADS}, got ${describe(n)}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`n: expected an integer from 1 to ${MAX_THREADS}, got ${String(n).slice(0, 40)}`);
  }
  state.requestedThreads = n;
  for (const backend of loaded.values()) backend.setThreads(n);
}

/**
 * An environment variable, or undefined. Reading the environment is optional: a runtime that
 * refuses it (Deno without --allow-env throws NotCapable) simply gets the defaults.
 */
export function env(name: string): string | undefined {
  try {
    const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
    const value = proc?.env?.[name];
    return value === undefined || value === '' ? undefined : String(value);
  } catch {
    return undefined;
  }
}

/** Chooses the backend at load time from GRADCLIP_BACKEND / GRADCLIP_THREADS, never throwing. */
export function initialize(): void {
  if (state.initialized) return; // another copy of gradclip has chosen already
  state.initialized = true;
  const threads = env('GRADCLIP_THREADS');
  const notes: string[] = [];
  if (threads !== undefined) {
    const n = Number(threads);
    if (Number.isInteger(n) && n >= 1 && n <= MAX_THREADS) state.requestedThreads = n;
    else notes.push(`GRADCLIP_THREADS=${threads.slice(0, 40)} ignored: expected an integer from 1 to ${MAX_THREADS}`);
  }
  const forced = env('GRADCLIP_BACKEND');
  if (forced === undefined || forced === 'auto') {
    selectAuto(notes);
    return;
  }
  if (!CHOICES.has(forced)) {
    selectAuto([...notes, `GRADCLIP_BACKEND=${forced.slice(0, 40)} ignored: expected native, wasm, js or auto`]);
    return;
  }
  const name = forced as BackendName;
  const got = tryLoad(name);
  if (typeof got === 'string') {
    selectAuto([...notes, `GRADCLIP_BACKEND=${name} unavailable (${got})`]);
    return;
  }
  for (const other of AUTO_ORDER) {
    if (other === name) break;
    // Not loaded: a js or wasm user need not pay for (or be exposed to) the native addon.
    notes.push(`${other}: not used (GRADCLIP_BACKEND=${name})`);
  }
  state.fallbacks = notes;
  state.active = got;
}
