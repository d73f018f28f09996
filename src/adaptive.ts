import { checkNormType, describe, gradientsOf } from './args.js';
import type { GradArray } from './backends/backend.js';
import { type Backend, ReduceOp } from './backends/backend.js';
import { checkLengthsUnchanged } from './clip.js';
import { lengthOf, typedArrayKind } from './intrinsics.js';
import { clipCoefficient, exponentOf, NonFiniteNormError, totalNorm, totalNormAsync } from './norm.js';
import { pow2 } from './pow.js';
import { activeBackend } from './registry.js';
import type { NormType, Parameters } from './types.js';

/**
 * Adaptive clipping: the threshold chosen from the run itself. AutoClip and ZClip are stateful
 * clippers over the total norm (one reduction pass, then at most one scale pass, as clipGradNorm);
 * agc clips each unit of each parameter against the norm of its weights. All of them run on the
 * backend kernels (SPEC §6 order, identical bits on every backend); only the few scalars of the
 * state live here.
 */

/** What one step of an adaptive clipper did. */
export interface AdaptiveClipResult {
  /** The total norm of the gradients before clipping. */
  totalNorm: number;
  /** The ceiling in force this step (Infinity: none); the gradients were scaled if totalNorm exceeded it. */
  threshold: number;
  /** What every gradient was multiplied by (1: nothing was written). */
  coefficient: number;
  /** The gradients were scaled (coefficient ≠ 1). */
  clipped: boolean;
  /** The norm was NaN or ±Infinity and onNonFinite: 'skip' left the gradients alone. */
  skipped: boolean;
}

export interface ZClipResult extends AdaptiveClipResult {
  /** A warm-up step: the norm was only collected, the clip (if any) was at maxGradNorm. */
  warmup: boolean;
  /** The norm was an outlier (z-score above zThresh; in 'percentile' mode: above μ + zThresh·σ). */
  spike: boolean;
  /** The z-score of this step's norm against the statistics before it (NaN during warm-up). */
  z: number;
}

type NonFinite = 'scale' | 'throw' | 'skip';

// ---- option parsing ---------------------------------------------------------------------------

/** Reads an options object whose keys may be camelCase or the reference's snake_case; unknown keys are refused. */
function readOptions(options: unknown, name: string, keys: Record<string, string | null>): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${name}: expected an options object, got ${describe(options)}`);
  }
  const out: Record<string, unknown> = {};
  const aliases = new Map<string, string>();
  for (const [key, snake] of Object.entries(keys)) {
    aliases.set(key, key);
    if (snake) aliases.set(snake, key);
  }
  for (const [key, value] of Object.entries(options)) {
    const canonical = aliases.get(key);
    if (canonical === undefined) {
      throw new TypeError(`${name}.${key}: unknown option (expected ${Object.keys(keys).join(', ')})`);
    }
    if (canonical in out && value !== undefined) {
      throw new TypeError(`${name}.${key}: given twice (as ${canonical} and ${keys[canonical]})`);
    }
    if (value !== undefined) out[canonical] = value;
  }
  return out;
}

function numberIn(
  value: unknown,
  name: string,
  fallback: number,
  ok: (x: number) => boolean,
  expected: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name}: expected a number, got ${describe(value)}`);
  if (!ok(value)) throw new RangeError(`${name}: must be ${expected}, got ${value}`);
  return value;
}

function policyOf(value: unknown, name: string): NonFinite {
  if (value === undefined) return 'scale';
  if (value === 'scale' || value === 'throw' || value === 'skip') return value;
  const what = typeof value === 'string' ? RangeError : TypeError;
  throw new what(`${name}: expected 'scale', 'throw' or 'skip', got ${describe(value)}`);
}

function boolOf(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name}: expected a boolean, got ${describe(value)}`);
  return value;
}

function stateOf(state: unknown, name: string, type: string): Record<string, unknown> {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new TypeError(`${name}: expected the object state_dict() returned, got ${describe(state)}`);
  }
  const s = state as Record<string, unknown>;
  if (s.type !== type) {
    throw new TypeError(`${name}: not a ${type} state (type: ${describe(s.type)})`);
  }
  if (s.version !== 1) throw new RangeError(`${name}: unsupported state version ${describe(s.version)} (expected 1)`);
  return s;
}

function float64ArrayOf(value: unknown, name: string): Float64Array {
  if (typedArrayKind(value) !== 'Float64Array') {
    throw new TypeError(`${name}: expected a Float64Array, got ${describe(value)}`);
  }
  const a = value as Float64Array;
  for (let i = 0; i < lengthOf(a); i++) {
    if (!(a[i] >= 0) || a[i] === Number.POSITIVE_INFINITY) {
      throw new RangeError(`${name}[${i}]: a recorded norm must be finite and >= 0, got ${a[i]}`);
    }
  }
  return a;
}

// ---- the shared step --------------------------------------------------------------------------

/** One step: norm, then the clipper's decision, then (at most) one scale pass. */
abstract class NormClipper<R extends AdaptiveClipResult> {
  #busy = false;

  protected constructor(
    protected readonly p: number,
    protected readonly onNonFinite: NonFinite,
  ) {}

  /** The decision for this norm: the ceiling, the coefficient, and the result fields besides. */
  protected abstract decide(norm: number): { result: R; commit: () => void };

  /**
   * Clips the gradients in place for this step and updates the clipper's statistics; call it
   * after the backward pass, before the optimizer step. Arguments are checked before anything
   * is written; a call that throws changes neither the gradients nor the state.
   */
  clip(parameters: Parameters): R {
    this.#checkIdle('clip');
    const grads = gradientsOf(parameters, 'parameters', false, true);
    const norm = grads.length === 0 ? 0 : totalNorm(grads, this.p, activeBackend());
    const { result, commit } = this.#decideChecked(norm);
    if (result.clipped) activeBackend().scale(grads, result.coefficient);
    commit();
    return result;
  }

  /** clip() as a Promise: on the native backend the norm and the scaling run off the JS thread. */
  async clipAsync(parameters: Parameters): Promise<R> {
    this.#checkIdle('clipAsync');
    const grads = gradientsOf(parameters, 'parameters', true, true);
    this.#busy = true;
    try {
      const backend = activeBackend();
      const lengths = grads.map(lengthOf);
      const norm = grads.length === 0 ? 0 : await totalNormAsync(grads, this.p, backend);
      checkLengthsUnchanged(grads, lengths, `${this.constructor.name}.clipAsync`);
      const { result, commit } = this.#decideChecked(norm);
      if (result.clipped) {
        if (backend.scaleAsync) await backend.scaleAsync(grads, result.coefficient);
        else backend.scale(grads, result.coefficient);
      }
      commit();
      return result;
    } finally {
      this.#busy = false;
    }
  }

  #checkIdle(method: string): void {
    if (this.#busy) {
      throw new Error(
        `${this.constructor.name}.${method}: a clipAsync on this clipper has not settled yet (await it first)`,
      );
    }
  }

  #decideChecked(norm: number): { result: R; commit: () => void } {
    if (!Number.isFinite(norm)) {
      if (this.onNonFinite === 'throw') throw new NonFiniteNormError(this.p, norm);
      const { result } = this.decide(norm);
      // A non-finite norm never enters the statistics (it would poison them for good).
      if (this.onNonFinite === 'skip')
        return { result: { ...result, coefficient: 1, clipped: false, skipped: true }, commit: () => {} };
      return { result, commit: () => {} };
    }
    return this.decide(norm);
  }

  /** torch's coefficient for a ceiling: min(1, ceiling / (norm + 1e-6)); "clipped" when it is not 1. */
  protected static torchRule(norm: number, ceiling: number): { coefficient: number; clipped: boolean } {
    const coefficient = clipCoefficient(ceiling, norm);
    return { coefficient, clipped: coefficient !== 1 };
  }
}

// ---- AutoClip ---------------------------------------------------------------------------------

export interface AutoClipOptions {
  /** The percentile of the recorded norms to clip at, 0 to 100 (default 10, the paper's). */
  percentile?: number;
  /**
   * How many of the latest norms to keep: a positive integer, or Infinity (default) for the whole
   * history, as the reference does. Memory: 16 bytes per kept norm.
   */
  window?: number;
  /** The norm (default 2, the paper's). */
  normType?: NormType;
  /** A NaN/±Infinity norm is never recorded; the step then scales (torch's rule), throws, or is skipped. */
  onNonFinite?: NonFinite;
}

/** What AutoClip.state_dict() returns: plain data (structured-cloneable, v8.serialize-able). */
export interface AutoClipState {
  type: 'AutoClip';
  version: 1;
  percentile: number;
  window: number;
  /** The recorded norms, oldest first (at most `window` of them). */
  history: Float64Array;
}

/**
 * AutoClip (Seetharaman et al., MLSP 2020): each step the total norm is added to a history and the
 * gradients are clipped at the history's `percentile`-th percentile (numpy's default linear
 * interpolation, bit for bit), with torch's coefficient min(1, threshold / (norm + 1e-6)). On the
 * first step the history is that one norm, so the threshold is the norm itself (a coefficient of
 * norm / (norm + 1e-6), as the reference gives).
 */
export class AutoClip extends NormClipper<AdaptiveClipResult> {
  readonly percentile: number;
  readonly window: number;
  #sorted = new Float64Array(16);
  #order = new Float64Array(16); // insertion order: a ring of `window` slots, or the whole history
  #count = 0;
  #head = 0; // ring start (window mode)

  constructor(options?: AutoClipOptions) {
    const o = readOptions(options, 'options', {
      percentile: null,
      window: null,
      normType: 'norm_type',
      onNonFinite: null,
    });
    super(checkNormType(o.normType, 'options.normType'), policyOf(o.onNonFinite, 'options.onNonFinite'));
    this.percentile = numberIn(o.percentile, 'options.percentile', 10, (x) => x >= 0 && x <= 100, 'between 0 and 100');
    this.window = numberIn(
      o.window,
      'options.window',
      Number.POSITIVE_INFINITY,
      (x) => x === Number.POSITIVE_INFINITY || (Number.isInteger(x) && x >= 1 && x <= 2 ** 31),
      'a positive integer (up to 2^31) or Infinity',
    );
    if (Number.isFinite(this.window)) {
      const slots = Math.min(this.window, 1 << 20);
      this.#sorted = new Float64Array(slots);
      this.#order = new Float64Array(slots);
    }
  }

  /** How many norms are recorded now. */
  get size(): number {
    return this.#count;
  }

  protected decide(norm: number): { result: AdaptiveClipResult; commit: () => void } {
    if (!Number.isFinite(norm)) {
      const sorted = this.#sorted;
      const threshold =
        this.#count === 0 ? Number.POSITIVE_INFINITY : this.#percentileOf((k) => sorted[k], this.#count);
      const rule = NormClipper.torchRule(norm, threshold);
      return { result: { totalNorm: norm, threshold, ...rule, skipped: false }, commit: () => {} };
    }
    // The percentile over the history with this norm in it, read through a view of the sorted
    // history (no copy: O(log n) per step): the norm is recorded only in commit(), so a throwing
    // scale leaves the state as it was.
    const { at, count } = this.#withInserted(norm);
    const threshold = this.#percentileOf(at, count);
    const rule = NormClipper.torchRule(norm, threshold);
    return {
      result: { totalNorm: norm, threshold, ...rule, skipped: false },
      commit: () => this.#record(norm),
    };
  }

  /** numpy.percentile(values, q), method 'linear': virtual index (n − 1)·q/100, then numpy's _lerp. */
  #percentileOf(at: (k: number) => number, n: number): number {
    const q = this.percentile / 100;
    const virtual = (n - 1) * q;
    if (virtual >= n - 1) return at(n - 1);
    const prev = Math.floor(virtual);
    const t = virtual - prev;
    const a = at(prev);
    const b = at(prev + 1);
    const diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
  }

  /**
   * The sorted history with `norm` added (and, in window mode, the oldest dropped if full), as an
   * accessor over the stored sorted array: element k of "without the oldest" is sorted[k] or
   * sorted[k + 1]; of "with the norm", the norm at its insertion point and the neighbours shifted.
   */
  #withInserted(norm: number): { at: (k: number) => number; count: number } {
    const sorted = this.#sorted;
    let count = this.#count;
    let removed = count; // index of the dropped oldest norm; count: none dropped
    if (Number.isFinite(this.window) && count === this.window) {
      removed = lowerBound(sorted, count, this.#order[this.#head]);
      count--;
    }
    const kept = (k: number) => sorted[k < removed ? k : k + 1];
    // Insertion point after equal values (as #record inserts): binary search over the kept view.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (kept(mid) <= norm) lo = mid + 1;
      else hi = mid;
    }
    const pos = lo;
    return { at: (k) => (k < pos ? kept(k) : k === pos ? norm : kept(k - 1)), count: count + 1 };
  }

  #record(norm: number): void {
    const windowed = Number.isFinite(this.window);
    if (windowed && this.#count === this.window) {
      const oldest = this.#order[this.#head];
      const at = lowerBound(this.#sorted, this.#count, oldest);
      this.#sorted.copyWithin(at, at + 1, this.#count);
      this.#count--;
      this.#order[this.#head] = norm;
      this.#head = (this.#head + 1) % this.window;
    } else {
      this.#grow(this.#count + 1);
      if (windowed) this.#order[(this.#head + this.#count) % this.window] = norm;
      else this.#order[this.#count] = norm;
    }
    const at = upperBound(this.#sorted, this.#count, norm);
    this.#sorted.copyWithin(at + 1, at, this.#count);
    this.#sorted[at] = norm;
    this.#count++;
  }

  #grow(need: number): void {
    if (need <= this.#sorted.length) return;
    const size = Math.min(
      Math.max(need, this.#sorted.length * 2),
      Number.isFinite(this.window) ? this.window : 2 ** 31,
    );
    const sorted = new Float64Array(size);
    sorted.set(this.#sorted.subarray(0, this.#count));
    this.#sorted = sorted;
    if (Number.isFinite(this.window)) {
      // Unroll the ring into the bigger array (oldest first), so the ring starts at 0 again.
      const order = new Float64Array(size);
      for (let i = 0; i < this.#count; i++) order[i] = this.#order[(this.#head + i) % this.#order.length];
      this.#order = order;
      this.#head = 0;
    } else {
      const order = new Float64Array(size);
      order.set(this.#order.subarray(0, this.#count));
      this.#order = order;
    }
  }

  /** The recorded norms, oldest first. */
  history(): Float64Array {
    const out = new Float64Array(this.#count);
    if (Number.isFinite(this.window)) {
      const slots = this.#order.length;
      for (let i = 0; i < this.#count; i++) out[i] = this.#order[(this.#head + i) % slots];
    } else {
      out.set(this.#order.subarray(0, this.#count));
    }
    return out;
  }

  /** The state as plain data: `new AutoClip(opts).load_state_dict(s)` continues the run exactly. */
  state_dict(): AutoClipState {
    return { type: 'AutoClip', version: 1, percentile: this.percentile, window: this.window, history: this.history() };
  }

  /** Restores a state_dict(); its percentile and window must match this clipper's (TypeError otherwise). */
  load_state_dict(state: AutoClipState): void {
    const s = stateOf(state, 'state', 'AutoClip');
    if (s.percentile !== this.percentile || s.window !== this.window) {
      throw new TypeError(
        `state: saved with percentile ${describe(s.percentile)} and window ${describe(s.window)}; this clipper has ${this.percentile} and ${this.window}`,
      );
    }
    const history = float64ArrayOf(s.history, 'state.history');
    if (lengthOf(history) > this.window) {
      throw new RangeError(`state.history: ${lengthOf(history)} norms, more than the window of ${this.window}`);
    }
    this.#count = 0;
    this.#head = 0;
    if (Number.isFinite(this.window)) {
      const slots = Math.max(Math.min(this.window, 1 << 20), lengthOf(history));
      this.#sorted = new Float64Array(slots);
      this.#order = new Float64Array(slots);
    } else {
      this.#sorted = new Float64Array(Math.max(16, lengthOf(history)));
      this.#order = new Float64Array(Math.max(16, lengthOf(history)));
    }
    for (let i = 0; i < lengthOf(history); i++) this.#record(history[i]);
  }

  /** camelCase spellings of state_dict / load_state_dict. */
  stateDict(): AutoClipState {
    return this.state_dict();
  }
  loadStateDict(state: AutoClipState): void {
    this.load_state_dict(state);
  }
}

/** First index i in sorted[0, n) with sorted[i] >= x. */
function lowerBound(sorted: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i in sorted[0, n) with sorted[i] > x. */
function upperBound(sorted: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- ZClip ------------------------------------------------------------------------------------

export interface ZClipOptions {
  /** EMA smoothing factor of the norm's mean and variance, in (0, 1) (default 0.97). */
  alpha?: number;
  /** z-score above which a norm is a spike (default 2.5). */
  zThresh?: number;
  /** The hard ceiling, applied always (and alone during warm-up); null for none (default 1.0). */
  maxGradNorm?: number | null;
  /** Added to σ in the z-score's denominator (default 1e-6). */
  eps?: number;
  /** Steps whose norms initialise the statistics before ZClip clips adaptively (default 25). */
  warmupSteps?: number;
  /** 'zscore' (default) or 'percentile' (always clip at μ + zThresh·σ). */
  mode?: 'zscore' | 'percentile';
  /** In 'zscore' mode: on a spike clip at μ + zThresh·σ/(z/zThresh) ('adaptive_scaling', default) or at μ ('mean'). */
  clipOption?: 'adaptive_scaling' | 'mean';
  /** Multiplies the adaptive_scaling threshold (default 1.0). */
  clipFactor?: number;
  /** On a spike, leave the statistics as they are (default false: update them with the threshold). */
  skipUpdateOnSpike?: boolean;
  /** The norm (default 2, the reference's). */
  normType?: NormType;
  /** A NaN/±Infinity norm is never recorded; the step then scales (torch's rule), throws, or is skipped. */
  onNonFinite?: NonFinite;
}

/** What ZClip.state_dict() returns: plain data. */
export interface ZClipState {
  type: 'ZClip';
  version: 1;
  /** The warm-up norms collected so far (empty once the statistics are initialised). */
  buffer: Float64Array;
  initialized: boolean;
  mean: number | null;
  var: number | null;
}

/**
 * ZClip (Kumar et al. 2025; the reference is bluorion-com/ZClip): an EMA of the total norm's mean
 * and variance, a z-score per step, and on a spike a clip at a threshold drawn from the statistics,
 * always capped at maxGradNorm. Every option and default is the reference's, and so is every rule:
 * warm-up clips with torch's clip_grad_norm_(maxGradNorm) while collecting norms, the statistics
 * start as the warm-up norms' mean and population variance, the variance update uses the updated
 * mean, the EMA takes the threshold (not the norm) on a spike, and after warm-up the coefficient is
 * ceiling / (norm + 1e-6) when norm > ceiling, else 1. (The reference's docstring says clipFactor
 * multiplies zThresh·σ; its code multiplies the whole threshold, and so does this.)
 */
export class ZClip extends NormClipper<ZClipResult> {
  readonly alpha: number;
  readonly zThresh: number;
  readonly maxGradNorm: number | null;
  readonly eps: number;
  readonly warmupSteps: number;
  readonly mode: 'zscore' | 'percentile';
  readonly clipOption: 'adaptive_scaling' | 'mean';
  readonly clipFactor: number;
  readonly skipUpdateOnSpike: boolean;
  #buffer: number[] = [];
  #initialized = false;
  #mean = Number.NaN;
  #var = Number.NaN;

  constructor(options?: ZClipOptions) {
    const o = readOptions(options, 'options', {
      alpha: null,
      zThresh: 'z_thresh',
      maxGradNorm: 'max_grad_norm',
      eps: null,
      warmupSteps: 'warmup_steps',
      mode: null,
      clipOption: 'clip_option',
      clipFactor: 'clip_factor',
      skipUpdateOnSpike: 'skip_update_on_spike',
      normType: 'norm_type',
      onNonFinite: null,
    });
    super(checkNormType(o.normType, 'options.normType'), policyOf(o.onNonFinite, 'options.onNonFinite'));
    const finitePositive = (x: number) => x > 0 && Number.isFinite(x);
    this.alpha = numberIn(o.alpha, 'options.alpha', 0.97, (x) => x > 0 && x < 1, 'between 0 and 1 (exclusive)');
    this.zThresh = numberIn(o.zThresh, 'options.zThresh', 2.5, finitePositive, 'a finite number > 0');
    this.maxGradNorm =
      o.maxGradNorm === null
        ? null
        : numberIn(
            o.maxGradNorm,
            'options.maxGradNorm',
            1.0,
            (x) => x >= 0 && !Number.isNaN(x),
            'a number >= 0 (or null)',
          );
    this.eps = numberIn(o.eps, 'options.eps', 1e-6, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
    this.warmupSteps = numberIn(
      o.warmupSteps,
      'options.warmupSteps',
      25,
      (x) => Number.isInteger(x) && x >= 1 && x <= 1e7,
      'an integer from 1 to 1e7',
    );
    const mode = o.mode ?? 'zscore';
    if (mode !== 'zscore' && mode !== 'percentile') {
      const what = typeof mode === 'string' ? RangeError : TypeError;
      throw new what(`options.mode: expected 'zscore' or 'percentile', got ${describe(mode)}`);
    }
    this.mode = mode;
    const clipOption = o.clipOption ?? 'adaptive_scaling';
    if (clipOption !== 'adaptive_scaling' && clipOption !== 'mean') {
      const what = typeof clipOption === 'string' ? RangeError : TypeError;
      throw new what(`options.clipOption: expected 'adaptive_scaling' or 'mean', got ${describe(clipOption)}`);
    }
    this.clipOption = clipOption;
    this.clipFactor = numberIn(o.clipFactor, 'options.clipFactor', 1.0, finitePositive, 'a finite number > 0');
    this.skipUpdateOnSpike = boolOf(o.skipUpdateOnSpike, 'options.skipUpdateOnSpike', false);
  }

  /** The EMA mean and variance of the norm (NaN until warm-up ends), and whether warm-up is over. */
  get statistics(): { mean: number; var: number; initialized: boolean; warmupNorms: number } {
    return { mean: this.#mean, var: this.#var, initialized: this.#initialized, warmupNorms: this.#buffer.length };
  }

  protected decide(norm: number): { result: ZClipResult; commit: () => void } {
    const max = this.maxGradNorm ?? Number.POSITIVE_INFINITY;
    const finite = Number.isFinite(norm);
    if (!this.#initialized) {
      // Warm-up: collect the norm; clip with torch's clip_grad_norm_(maxGradNorm) if there is one.
      const rule =
        this.maxGradNorm === null && finite ? { coefficient: 1, clipped: false } : NormClipper.torchRule(norm, max);
      return {
        result: { totalNorm: norm, threshold: max, ...rule, skipped: false, warmup: true, spike: false, z: Number.NaN },
        commit: () => {
          this.#buffer.push(norm);
          if (this.#buffer.length >= this.warmupSteps) this.#initialize();
        },
      };
    }
    const std = this.#var ** 0.5;
    const z = (norm - this.#mean) / (std + this.eps);
    let clipVal: number | null = null;
    if (this.mode === 'percentile') {
      const threshold = this.#mean + this.zThresh * std;
      if (norm > threshold) clipVal = threshold;
    } else if (z > this.zThresh) {
      if (this.clipOption === 'adaptive_scaling') {
        const eta = z / this.zThresh; // the further out, the lower the threshold
        clipVal = (this.#mean + (this.zThresh * std) / eta) * this.clipFactor;
      } else {
        clipVal = this.#mean;
      }
    }
    const ceiling = Math.min(clipVal ?? Number.POSITIVE_INFINITY, max);
    let coefficient: number;
    if (!finite) coefficient = NormClipper.torchRule(norm, ceiling).coefficient;
    else coefficient = norm > ceiling ? ceiling / (norm + 1e-6) : 1;
    const spike = clipVal !== null;
    return {
      result: {
        totalNorm: norm,
        threshold: ceiling,
        coefficient,
        clipped: coefficient !== 1,
        skipped: false,
        warmup: false,
        spike,
        z,
      },
      commit: () => {
        if (spike && this.skipUpdateOnSpike) return;
        const x = clipVal ?? norm;
        this.#mean = this.alpha * this.#mean + (1 - this.alpha) * x;
        this.#var = this.alpha * this.#var + (1 - this.alpha) * (x - this.#mean) ** 2;
      },
    };
  }

  #initialize(): void {
    let sum = 0;
    for (const x of this.#buffer) sum += x;
    this.#mean = sum / this.#buffer.length;
    let sq = 0;
    for (const x of this.#buffer) sq += (x - this.#mean) ** 2;
    this.#var = sq / this.#buffer.length;
    this.#initialized = true;
    this.#buffer = [];
  }

  state_dict(): ZClipState {
    return {
      type: 'ZClip',
      version: 1,
      buffer: Float64Array.from(this.#buffer),
      initialized: this.#initialized,
      mean: this.#initialized ? this.#mean : null,
      var: this.#initialized ? this.#var : null,
    };
  }

  load_state_dict(state: ZClipState): void {
    const s = stateOf(state, 'state', 'ZClip');
    const initialized = boolOf(s.initialized, 'state.initialized', false);
    const buffer = float64ArrayOf(s.buffer, 'state.buffer');
    if (initialized) {
      const mean = s.mean;
      const variance = s.var;
      if (typeof mean !== 'number' || !(mean >= 0) || !Number.isFinite(mean)) {
        throw new RangeError(`state.mean: expected a finite number >= 0, got ${describe(mean)}`);
      }
      if (typeof variance !== 'number' || !(variance >= 0) || !Number.isFinite(variance)) {
        throw new RangeError(`state.var: expected a finite number >= 0, got ${describe(variance)}`);
      }
      if (lengthOf(buffer) !== 0) throw new RangeError('state.buffer: must be empty once initialized');
      this.#mean = mean;
      this.#var = variance;
    } else {
      if (lengthOf(buffer) >= this.warmupSteps) {
        throw new RangeError(
          `state.buffer: ${lengthOf(buffer)} warm-up norms, this clipper warms up in ${this.warmupSteps}`,
        );
      }
      this.#mean = Number.NaN;
      this.#var = Number.NaN;
    }
    this.#buffer = Array.from(buffer);
    this.#initialized = initialized;
  }

  stateDict(): ZClipState {
    return this.state_dict();
  }
  loadStateDict(state: ZClipState): void {
    this.load_state_dict(state);
  }
}

// ---- AGC --------------------------------------------------------------------------------------

/** A parameter for agc: its weights, its gradient (same dtype and length, or null) and its shape. */
export interface AgcParameter {
  data: GradArray;
  grad: GradArray | null | undefined;
  /** The tensor's shape (row-major); default [data.length], a vector (one unit). */
  shape?: readonly number[];
}

export interface AgcOptions {
  /** λ: a unit is clipped when ‖G‖ / max(‖W‖, eps) exceeds it (default 0.01). */
  clipping?: number;
  /** ε: the floor of a unit's weight norm, so zero-initialised weights can still move (default 1e-3). */
  eps?: number;
  /**
   * Which elements form a unit. 'torch' (default; timm's rule): dim 0 indexes the units, the norm is
   * over the rest; a vector or scalar is one unit. 'jax' (the paper's code, deepmind-research
   * nfnets): a 2-D or 3-D parameter reduces over dim 0, a 4-D (HWIO) one over dims 0-2, so the last
   * dims are the units (strided columns: norms from the backends' column kernel, each column's
   * squares added in row order); after dropping size-1 dims, a vector or scalar is one unit.
   */
  layout?: 'torch' | 'jax';
  /**
   * Parameters to leave unclipped (the paper leaves the final linear layer alone): the parameter
   * objects themselves, or a function (param, index) → true to exclude.
   */
  exclude?: Iterable<AgcParameter> | ((param: AgcParameter, index: number) => boolean);
}

/** What agc() did. */
export interface AgcResult {
  /** Units (rows, or columns for the 'jax' layout) looked at, over all non-excluded parameters with a gradient. */
  units: number;
  /** Units whose gradient was scaled. */
  clipped: number;
}

interface UnitViews {
  key: string;
  parent: GradArray;
  /** Contiguous units (rows): views of data and grad. */
  data: GradArray[];
  grad: GradArray[];
  /** Strided units (the 'jax' layout's columns): their number, else 0. */
  columns: number;
}

/** Per-gradient unit views, reused while the arrays and the shape stay the same (no allocation per step). */
const unitViewCache = new WeakMap<GradArray, UnitViews>();

/**
 * Adaptive gradient clipping (Brock et al. 2021): for every unit i of every parameter,
 * G_i ← G_i · λ·max(‖W_i‖, ε) / ‖G_i‖ when ‖G_i‖ ≥ λ·max(‖W_i‖, ε) (timm's and the paper's
 * code: the gradient norm floored at 1e-6 in the division), else left alone. The unit norms come
 * from one reduction pass over all weights and one over all gradients, the scaling from one pass
 * over the clipped units, on the active backend (a row unit's norm is getTotalNorm([that unit]) bit
 * for bit; a 'jax' column's is its squares added in row order). A NaN gradient norm makes its unit
 * NaN, as in the references.
 */
export function agc(parameters: Iterable<AgcParameter>, options?: AgcOptions): AgcResult {
  const o = readOptions(options, 'options', { clipping: 'clip_factor', eps: null, layout: null, exclude: null });
  const clipping = numberIn(
    o.clipping,
    'options.clipping',
    0.01,
    (x) => x > 0 && Number.isFinite(x),
    'a finite number > 0',
  );
  const eps = numberIn(o.eps, 'options.eps', 1e-3, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
  const layout = o.layout ?? 'torch';
  if (layout !== 'torch' && layout !== 'jax') {
    const what = typeof layout === 'string' ? RangeError : TypeError;
    throw new what(`options.layout: expected 'torch' or 'jax', got ${describe(layout)}`);
  }
  const exclude = excluder(o.exclude);
  if (parameters === null || typeof parameters !== 'object' || !(Symbol.iterator in parameters)) {
    throw new TypeError(`parameters: expected an iterable of { data, grad, shape }, got ${describe(parameters)}`);
  }
  // First every property and the exclude function are read, once each (user code may run there);
  // then, with no user code left to run, the arrays are checked and cut into units.
  const taken: { name: string; data: unknown; grad: unknown; shape: unknown }[] = [];
  let index = 0;
  for (const param of parameters as Iterable<unknown>) {
    const i = index++;
    const name = `parameters[${i}]`;
    if (param === null || typeof param !== 'object') {
      throw new TypeError(`${name}: expected { data, grad, shape }, got ${describe(param)}`);
    }
    const p = param as AgcParameter;
    if (!('grad' in p))
      throw new TypeError(`${name}: has no grad property (use grad: null for a parameter without a gradient)`);
    const record = { name, data: p.data, grad: p.grad, shape: p.shape };
    if (record.grad === null || record.grad === undefined) continue;
    if (exclude(p, i)) continue;
    taken.push(record);
  }
  const dataUnits: GradArray[] = [];
  const gradUnits: GradArray[] = [];
  const strided: { data: GradArray; grad: GradArray; columns: number }[] = [];
  for (const { name, data: d, grad: gr, shape: sh } of taken) {
    for (const [value, what] of [
      [d, 'data'],
      [gr, 'grad'],
    ] as const) {
      const kind = typedArrayKind(value);
      if (kind !== 'Float32Array' && kind !== 'Float64Array') {
        throw new TypeError(`${name}.${what}: expected a Float32Array or Float64Array, got ${describe(value)}`);
      }
    }
    const [data, grad] = gradientsOf([d, gr], name);
    if (typedArrayKind(grad) !== typedArrayKind(data)) {
      throw new TypeError(
        `${name}.grad: is a ${typedArrayKind(grad)}, its data a ${typedArrayKind(data)} (they must match)`,
      );
    }
    const n = lengthOf(data);
    if (lengthOf(grad) !== n) throw new RangeError(`${name}.grad: has ${lengthOf(grad)} elements, its data ${n}`);
    const shape = shapeOf(sh, n, `${name}.shape`);
    const views = unitViews(data, grad, shape, layout, name);
    if (views.columns > 0) strided.push({ data, grad, columns: views.columns });
    for (const v of views.data) dataUnits.push(v);
    for (const v of views.grad) gradUnits.push(v);
  }
  const backend = activeBackend();
  const unitCoef = (w: number, g: number) => {
    const maxNorm = Math.max(w, eps) * clipping;
    // where(‖G‖ < max, G, G · max / max(‖G‖, 1e-6)): NaN compares false, so a NaN unit is scaled (to NaN).
    return g < maxNorm ? 1 : maxNorm / Math.max(g, 1e-6);
  };
  let units = 0;
  let clipped = 0;
  // Strided units: per-column norms of weights and gradient, one pass over each, then one scale pass.
  for (const { data, grad, columns } of strided) {
    const w = columnNorms(backend, data, columns);
    const gn = columnNorms(backend, grad, columns);
    const coefs = new Float64Array(columns);
    let any = false;
    for (let c = 0; c < columns; c++) {
      coefs[c] = unitCoef(w[c], gn[c]);
      if (coefs[c] !== 1) {
        clipped++;
        any = true;
      }
    }
    units += columns;
    if (any) backend.scaleColumns(grad, columns, coefs);
  }
  if (gradUnits.length === 0) return { units, clipped };
  const weightNorms = new Float64Array(dataUnits.length);
  const gradNorms = new Float64Array(gradUnits.length);
  totalNorm(dataUnits, 2, backend, weightNorms);
  totalNorm(gradUnits, 2, backend, gradNorms);
  const coefs = new Float64Array(gradUnits.length);
  let rowsClipped = 0;
  for (let u = 0; u < coefs.length; u++) {
    coefs[u] = unitCoef(weightNorms[u], gradNorms[u]);
    if (coefs[u] !== 1) rowsClipped++;
  }
  if (rowsClipped > 0) backend.scaleEach(gradUnits, coefs);
  return { units: units + gradUnits.length, clipped: clipped + rowsClipped };
}

/** A sum of squares below this may have lost bits to underflow (as in norm.ts). */
const COLUMN_UNDERFLOW = 2 ** -900;

/**
 * The 2-norm of every column of a row-major [rows, columns] array (backend.columnSumSquares). A
 * float64 array whose column sums overflowed, or may have underflowed, is summed again scaled by an
 * exact power of two taken from its largest |x| (float32 squares cannot do either in double).
 */
function columnNorms(backend: Backend, a: GradArray, columns: number): Float64Array {
  const out = new Float64Array(columns);
  backend.columnSumSquares(a, columns, 1, out);
  let suspect = false;
  if (typedArrayKind(a) === 'Float64Array') {
    for (let c = 0; c < columns; c++)
      if (out[c] === Number.POSITIVE_INFINITY || out[c] < COLUMN_UNDERFLOW) suspect = true;
  }
  if (suspect) {
    const max = new Float64Array(1);
    backend.reduce([a], ReduceOp.MaxAbs, 2, null, max);
    if (max[0] > 0 && max[0] < Number.POSITIVE_INFINITY) {
      const e = Math.max(exponentOf(max[0]), -1022);
      backend.columnSumSquares(a, columns, pow2(-e), out);
      for (let c = 0; c < columns; c++) out[c] = Math.sqrt(out[c]) * pow2(e);
      return out;
    }
  }
  for (let c = 0; c < columns; c++) out[c] = Math.sqrt(out[c]);
  return out;
}

function excluder(value: unknown): (p: AgcParameter, i: number) => boolean {
  if (value === undefined) return () => false;
  if (typeof value === 'function') {
    return (p, i) => {
      const r = (value as (p: AgcParameter, i: number) => unknown)(p, i);
      if (typeof r !== 'boolean')
        throw new TypeError(`options.exclude: the function returned ${describe(r)}, expected a boolean`);
      return r;
    };
  }
  if (value !== null && typeof value === 'object' && Symbol.iterator in value) {
    const set = new Set(value as Iterable<unknown>);
    return (p) => set.has(p);
  }
  throw new TypeError(`options.exclude: expected parameters (an array or Set) or a function, got ${describe(value)}`);
}

function shapeOf(shape: unknown, n: number, name: string): readonly number[] {
  if (shape === undefined) return [n];
  if (!Array.isArray(shape)) throw new TypeError(`${name}: expected an array of dimensions, got ${describe(shape)}`);
  let product = 1;
  for (const [k, d] of shape.entries()) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new TypeError(`${name}[${k}]: expected a non-negative integer, got ${describe(d)}`);
    }
    product *= d;
  }
  if (product !== n)
    throw new RangeError(`${name}: [${shape.join(', ')}] holds ${product} elements, the data has ${n}`);
  return shape;
}

/**
 * The units of one parameter: contiguous rows as views (cached per gradient array, so a training
 * loop makes them once), or the number of strided columns (see unitsOf).
 */
function unitViews(
  data: GradArray,
  grad: GradArray,
  shape: readonly number[],
  layout: 'torch' | 'jax',
  name: string,
): UnitViews {
  const key = `${layout}:${shape.join('x')}`;
  const cached = unitViewCache.get(grad);
  if (cached && cached.key === key && cached.parent === data) return cached;
  const n = lengthOf(data);
  const { units, length, columns } = unitsOf(shape, n, layout, name);
  const views: UnitViews = { key, parent: data, data: [], grad: [], columns };
  for (let u = 0; u < units; u++) {
    views.data.push(data.subarray(u * length, (u + 1) * length));
    views.grad.push(grad.subarray(u * length, (u + 1) * length));
  }
  unitViewCache.set(grad, views);
  return views;
}

/**
 * How a parameter splits into units: `units` contiguous ones of `length` elements, or (columns > 0)
 * `columns` strided ones, element i in unit i mod columns.
 */
function unitsOf(
  shape: readonly number[],
  n: number,
  layout: 'torch' | 'jax',
  name: string,
): { units: number; length: number; columns: number } {
  if (n === 0) return { units: 0, length: 0, columns: 0 };
  if (layout === 'torch') {
    if (shape.length <= 1) return { units: 1, length: n, columns: 0 };
    return { units: shape[0], length: n / shape[0], columns: 0 };
  }
  // deepmind-research nfnets (agc_optax.unitwise_norm): scalars and vectors (after squeezing) are one
  // unit; a 2-D or 3-D parameter reduces over dim 0, a 4-D (HWIO) one over dims 0, 1 and 2.
  const squeezed = shape.filter((d) => d !== 1);
  if (squeezed.length <= 1) return { units: 1, length: n, columns: 0 };
  if (shape.length === 2 || shape.length === 3) return { units: 0, length: 0, columns: n / shape[0] };
  if (shape.length === 4) return { units: 0, length: 0, columns: shape[3] };
  throw new RangeError(
    `${name}: the 'jax' layout takes parameters of 1 to 4 dimensions (as the reference), got [${shape.join(', ')}]`,
  );
}
