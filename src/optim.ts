import { checkBoolean, checkNonNegative, checkNormType, describe, valueBounds } from './args.js';
import { type GradArray, StepHyper as H, StepKind } from './backends/backend.js';
import { bufferOf, byteOffsetOf, isDetachedView, isF32, isGradArray, isResizable, lengthOf } from './intrinsics.js';
import { clipCoefficient, NonFiniteNormError, totalNorm, totalNormAsync } from './norm.js';
import { activeBackend } from './registry.js';
import type { NormType, ValueBounds } from './types.js';

/**
 * torch.optim's SGD, Adam and AdamW over Float32Array/Float64Array parameters, with the clip optionally
 * fused into the step (issue 12, SPEC §8). The facade owns every semantic: it checks the arguments,
 * computes the total norm with the same kernels as clip_grad_norm_, keeps the state, and hands each
 * param group to one backend call (`Backend.step`), which runs torch's single-tensor arithmetic with
 * every operation rounded to the parameter's dtype.
 */

/** A parameter, like torch's: its values and its gradient (same dtype and length, or null: no step for it). */
export interface Param {
  data: GradArray;
  grad?: GradArray | null;
}

/** What to do with a non-finite total norm in a fused norm clip: as the clip functions' onNonFinite. */
export type NonFiniteStep = 'scale' | 'throw' | 'skip';

/**
 * The clip fused into step(), optimizer-wide (the norm is over every group's gradients, as
 * clip_grad_norm_(all params) would compute it). At most one of max_grad_norm and clip_value.
 */
export interface FusedClipOptions {
  /** Clip the total norm of all gradients to this (torch's clip_grad_norm_ max_norm). */
  max_grad_norm?: number;
  maxGradNorm?: number;
  /** The norm's order (default 2): any p clip_grad_norm_ takes. */
  norm_type?: NormType;
  normType?: NormType;
  /** Throw a NonFiniteNormError before anything changes when the total norm is NaN or ±Infinity. */
  error_if_nonfinite?: boolean;
  errorIfNonfinite?: boolean;
  /** 'scale' (torch: the step runs with NaN/0 gradients), 'throw' (= error_if_nonfinite) or 'skip' (no step at all). */
  on_non_finite?: NonFiniteStep;
  onNonFinite?: NonFiniteStep;
  /** Clamp every gradient element first: a number c is torch's clip_grad_value_ ([-c, c]); { min, max } TensorFlow's clip_by_value. */
  clip_value?: number | ValueBounds;
  clipValue?: number | ValueBounds;
}

export interface SGDOptions extends FusedClipOptions {
  /** Learning rate (default 1e-3, torch ≥ 2.0's default). */
  lr?: number;
  momentum?: number;
  dampening?: number;
  weight_decay?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

export interface AdamOptions extends FusedClipOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weight_decay?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

/** A param group as in torch: its parameters and any hyperparameters that differ from the defaults. */
export type ParamGroup<O> = { params: Iterable<Param> } & Omit<O, keyof FusedClipOptions>;

/** The state of one parameter, as torch keeps it (arrays of the parameter's dtype and length). */
export interface ParamState {
  step?: number;
  momentum_buffer?: GradArray | null;
  exp_avg?: GradArray;
  exp_avg_sq?: GradArray;
  max_exp_avg_sq?: GradArray;
}

/** A checkpoint: plain data (typed arrays, numbers, booleans), structured-cloneable and v8.serialize-able. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

type Hyper = Record<string, number | boolean | readonly [number, number]>;

interface Group {
  params: Param[];
  hyper: Hyper;
}

/** The keys an optimizer's hyperparameters go by, snake_case first, with their camelCase aliases. */
const CAMEL: Record<string, string> = {
  weightDecay: 'weight_decay',
  maxGradNorm: 'max_grad_norm',
  normType: 'norm_type',
  errorIfNonfinite: 'error_if_nonfinite',
  onNonFinite: 'on_non_finite',
  clipValue: 'clip_value',
};
const CLIP_KEYS = new Set(['max_grad_norm', 'norm_type', 'error_if_nonfinite', 'on_non_finite', 'clip_value']);

/** Reads `options` into snake_case keys, refusing unknown keys and a key given in both spellings. */
function normalize(options: unknown, name: string, allowed: Set<string>, clip: boolean): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${name}: expected an object of options, got ${describe(options)}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    const snake = CAMEL[key] ?? key;
    const known = allowed.has(snake) || (clip && CLIP_KEYS.has(snake));
    if (!known) {
      const hint = CLIP_KEYS.has(snake)
        ? ' (the fused clip is optimizer-wide: give it in the options, not in a param group)'
        : '';
      throw new TypeError(`${name}.${key}: unknown option${hint} (expected ${[...allowed].join(', ')})`);
    }
    if (snake in out) throw new TypeError(`${name}: ${key} and ${snake} are the same option; give one of them`);
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) out[snake] = value;
  }
  return out;
}

function finiteNonNegative(value: unknown, name: string, what: string): number {
  const x = checkNonNegative(value, name);
  if (x === Number.POSITIVE_INFINITY) throw new RangeError(`${name}: ${what} must be finite, got Infinity`);
  return x;
}

/** The fused clip as the step applies it. */
interface Clip {
  maxNorm?: number;
  p: number;
  policy: NonFiniteStep;
  bounds?: [number, number];
}

function clipOf(o: Record<string, unknown>, name: string): Clip {
  const strict = checkBoolean(o.error_if_nonfinite, `${name}.error_if_nonfinite`);
  const policy = o.on_non_finite;
  if (policy !== undefined && policy !== 'scale' && policy !== 'throw' && policy !== 'skip') {
    const what = typeof policy === 'string' ? RangeError : TypeError;
    throw new what(`${name}.on_non_finite: expected 'scale', 'throw' or 'skip', got ${describe(policy)}`);
  }
  if (strict && policy !== undefined && policy !== 'throw') {
    throw new TypeError(`${name}: error_if_nonfinite: true and on_non_finite: '${policy}' disagree (give one of them)`);
  }
  const clip: Clip = {
    p: checkNormType(o.norm_type, `${name}.norm_type`),
    policy: strict ? 'throw' : ((policy as NonFiniteStep | undefined) ?? 'scale'),
  };
  if (o.max_grad_norm !== undefined) clip.maxNorm = checkNonNegative(o.max_grad_norm, `${name}.max_grad_norm`);
  if (o.clip_value !== undefined) clip.bounds = valueBounds(o.clip_value, `${name}.clip_value`);
  if (clip.maxNorm !== undefined && clip.bounds) {
    throw new TypeError(`${name}: max_grad_norm and clip_value are both set; the fused clip is one of them`);
  }
  const normOnly = ['norm_type', 'error_if_nonfinite', 'on_non_finite'].filter((k) => o[k] !== undefined);
  if (clip.maxNorm === undefined && normOnly.length > 0) {
    throw new TypeError(`${name}.${normOnly[0]}: only means something with max_grad_norm`);
  }
  return clip;
}

/** The parameters of one step: read once (user getters run here, first), then checked through the engine's accessors. */
interface Plan {
  /** Per group: the parameters with a gradient, their data and grad arrays, and their index in the optimizer. */
  groups: {
    /** The group's hyperparameters, read once (a scheduler's getter runs here, not during the step). */
    hyper: Record<string, unknown>;
    params: Param[];
    data: GradArray[];
    grads: GradArray[];
    /** Each parameter's state as read at the start of the step (its arrays checked), or undefined. */
    state: (ParamState | undefined)[];
    index: number[];
  }[];
  grads: GradArray[];
}

const STATE_ARRAYS = ['momentum_buffer', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] as const;

export abstract class Optimizer<O extends object> {
  /** torch's param_groups: each group's params and hyperparameters (read them; set lr etc. to schedule). */
  readonly param_groups: Array<{ params: Param[] } & Record<string, unknown>>;
  /** Per-parameter state, as torch's optimizer.state. */
  readonly state = new Map<Param, ParamState>();
  protected readonly clip: Clip;
  private readonly kind: StepKind;
  private busy = false;
  // The overlap check of data, grad and state arrays runs again only when an array changed (a training loop
  // reuses them).
  private checked: [GradArray[], GradArray[]] = [[], []]; // data and grads; those and the state arrays

  protected constructor(
    kind: StepKind,
    params: Iterable<Param> | Iterable<ParamGroup<O>>,
    options: O | undefined,
    defaults: Hyper,
    private readonly name: string,
  ) {
    this.kind = kind;
    const allowed = new Set(Object.keys(defaults));
    const o = normalize(options, 'options', allowed, true);
    this.clip = clipOf(o, 'options');
    const base: Hyper = { ...defaults };
    for (const key of allowed) if (o[key] !== undefined) base[key] = o[key] as Hyper[string];
    this.validate(base, 'options');
    const groups = this.groupsOf(params, base, allowed);
    this.param_groups = groups.map((g) => ({ ...g.hyper, params: g.params }));
  }

  /** torch's constructor checks (ValueError there), as RangeError/TypeError naming the option. */
  protected abstract validate(h: Hyper, name: string): void;
  /** The backend's scalars for a group (SGD or Adam layout of StepHyper). */
  protected abstract hyperOf(h: Record<string, unknown>, hyper: Float64Array): void;
  /** Adds the state a parameter has before its first step (for the arrays, `zeros` of its dtype/length). */
  protected abstract initState(h: Record<string, unknown>, zeros: () => GradArray): ParamState;
  /** The group's arrays for one parameter, after its data and grad, and its two per-tensor scalars (advances step). */
  protected abstract arraysOf(h: Record<string, unknown>, s: ParamState, out: GradArray[], per: number[]): void;

  private groupsOf(params: unknown, base: Hyper, allowed: Set<string>): Group[] {
    if (
      params === null ||
      typeof params !== 'object' ||
      typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function'
    ) {
      throw new TypeError(
        `params: expected an iterable of parameters ({ data, grad }) or of param groups, got ${describe(params)}`,
      );
    }
    const items = Array.from(params as Iterable<unknown>);
    if (items.length === 0) throw new RangeError('params: the optimizer got an empty parameter list');
    const isGroup = (x: unknown) => typeof x === 'object' && x !== null && 'params' in x;
    const groups: Group[] = isGroup(items[0])
      ? items.map((item, i) => {
          if (!isGroup(item))
            throw new TypeError(`params[${i}]: expected a param group like the others, got ${describe(item)}`);
          const { params: list, ...rest } = item as { params: unknown };
          const o = normalize(rest, `params[${i}]`, allowed, false);
          const hyper: Hyper = { ...base };
          for (const key of Object.keys(o)) hyper[key] = o[key] as Hyper[string];
          this.validate(hyper, `params[${i}]`);
          if (
            list === null ||
            typeof list !== 'object' ||
            typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function'
          ) {
            throw new TypeError(`params[${i}].params: expected an iterable of parameters, got ${describe(list)}`);
          }
          return { params: Array.from(list as Iterable<Param>), hyper };
        })
      : [{ params: items as Param[], hyper: { ...base } }];
    const seen = new Set<unknown>();
    groups.forEach((g, gi) => {
      g.params.forEach((p, i) => {
        const at = groups.length > 1 ? `params[${gi}].params[${i}]` : `params[${i}]`;
        if (typeof p !== 'object' || p === null || isGradArray(p)) {
          throw new TypeError(`${at}: expected a parameter { data, grad }, got ${describe(p)}`);
        }
        if (seen.has(p)) throw new TypeError(`${at}: this parameter appears more than once (torch refuses it too)`);
        // Checked now as torch checks its tensors (and again at every step: data may be replaced).
        const data = (p as Param).data;
        if (!isGradArray(data)) {
          throw new TypeError(`${at}.data: expected a Float32Array or Float64Array, got ${describe(data)}`);
        }
        seen.add(p);
      });
    });
    return groups;
  }

  private where(gi: number, i: number): string {
    return this.param_groups.length > 1 ? `param_groups[${gi}].params[${i}]` : `params[${i}]`;
  }

  /** Reads every parameter's data and grad once, then checks them all; nothing is written here. */
  private plan(forAsync: boolean): Plan {
    const groups: Plan['groups'] = [];
    const grads: GradArray[] = [];
    const all: GradArray[] = [];
    // Where each pair of `all` came from (group, index): the labels of error messages are built only
    // when one is thrown (a step over 10,000 parameters must not format 20,000 strings).
    const loc: number[] = [];
    const label = (k: number) => `${this.where(loc[2 * (k >> 1)], loc[2 * (k >> 1) + 1])}.${k & 1 ? 'grad' : 'data'}`;
    let index = 0;
    this.param_groups.forEach((group, gi) => {
      // A scheduler may have changed lr (or anything) since the last step: read once, checked as the
      // constructor checks.
      const hyper: Record<string, unknown> = { ...group };
      this.validate(hyper as Hyper, this.param_groups.length > 1 ? `param_groups[${gi}]` : 'param_groups[0]');
      const entry: Plan['groups'][number] = { hyper, params: [], data: [], grads: [], state: [], index: [] };
      group.params.forEach((p, i) => {
        const data = p.data;
        const grad = p.grad;
        if (!isGradArray(data)) {
          throw new TypeError(
            `${this.where(gi, i)}.data: expected a Float32Array or Float64Array, got ${describe(data)}`,
          );
        }
        if (grad !== null && grad !== undefined) {
          if (!isGradArray(grad)) {
            throw new TypeError(
              `${this.where(gi, i)}.grad: expected a Float32Array, Float64Array or null, got ${describe(grad)}`,
            );
          }
          entry.params.push(p);
          entry.data.push(data);
          entry.grads.push(grad);
          const s = this.state.get(p);
          entry.state.push(s && { ...s });
          entry.index.push(index);
          grads.push(grad);
          all.push(data, grad);
          loc.push(gi, i);
        }
        index++;
      });
      groups.push(entry);
    });
    // No user code runs from here on: lengths, dtypes and buffers are read through the engine's accessors.
    for (let k = 0; k < all.length; k++) {
      const a = all[k];
      if (lengthOf(a) === 0 && isDetachedView(a)) throw new TypeError(`${label(k)}: its ArrayBuffer is detached`);
      if (forAsync && isResizable(bufferOf(a))) {
        throw new TypeError(`${label(k)}: its ArrayBuffer is resizable, which stepAsync cannot allow (use step())`);
      }
    }
    for (let k = 0; k < all.length; k += 2) {
      const data = all[k];
      const grad = all[k + 1];
      if (isF32(data) !== isF32(grad)) {
        throw new TypeError(
          `${label(k + 1)}: a ${isF32(grad) ? 'Float32Array' : 'Float64Array'} for ${isF32(data) ? 'Float32Array' : 'Float64Array'} data (same dtype needed)`,
        );
      }
      if (lengthOf(data) !== lengthOf(grad)) {
        throw new RangeError(
          `${label(k + 1)}: ${lengthOf(grad)} elements for ${lengthOf(data)} of data (same length needed)`,
        );
      }
    }
    this.checkOverlaps(all, [], label, 0);
    // State made for an earlier data array must still fit this one, and every state array must be one
    // (optimizer.state is readable and writable, as torch's is).
    const stateArrays: GradArray[] = [];
    const stateOwners: [Param, string][] = [];
    for (const g of groups) {
      g.params.forEach((p, j) => {
        const s = g.state[j];
        if (!s) return;
        const data = g.data[j];
        for (const key of STATE_ARRAYS) {
          const a = s[key];
          if (a === undefined || (a === null && key === 'momentum_buffer')) continue;
          if (!isGradArray(a)) {
            throw new TypeError(
              `optimizer.state.get(${this.labelOf(p)}).${key}: expected a Float32Array or Float64Array, got ${describe(a)}`,
            );
          }
          if (lengthOf(a) !== lengthOf(data) || isF32(a) !== isF32(data)) {
            const kind = (x: GradArray) => `${lengthOf(x)} ${isF32(x) ? 'float32' : 'float64'}`;
            const detached = lengthOf(a) === 0 && isDetachedView(a) ? ' (detached)' : '';
            throw new RangeError(
              `${this.labelOf(p)}.data: ${kind(data)} elements, but its optimizer state (${key}) has ${kind(a)}${detached}`,
            );
          }
          stateArrays.push(a);
          stateOwners.push([p, key]);
        }
      });
    }
    // Data, grads and state: no two may share memory (a state array that is a gradient, or one shared by
    // two parameters, would be read after the step wrote it).
    if (stateArrays.length > 0) {
      this.checkOverlaps(
        all,
        stateArrays,
        (k) => {
          if (k < all.length) return label(k);
          const [p, key] = stateOwners[k - all.length] as [Param, string];
          return `optimizer.state.get(${this.labelOf(p)}).${key}`;
        },
        1,
      );
    }
    return { groups, grads };
  }

  private labelOf(p: Param): string {
    for (let gi = 0; gi < this.param_groups.length; gi++) {
      const i = this.param_groups[gi].params.indexOf(p);
      if (i >= 0) return this.where(gi, i);
    }
    return 'params';
  }

  /**
   * No two of the arrays may share memory: a gradient shared by two parameters, one that is its own data, or
   * a state array that is another array, would be read after it was written. Runs again only when an array
   * changed.
   */
  private checkOverlaps(first: GradArray[], more: GradArray[], label: (k: number) => string, cache: 0 | 1): void {
    // The arrays are first then more (indices for `label` run on across both); compared with the last
    // checked ones in place, so an unchanged training loop allocates nothing here.
    const checked = this.checked[cache];
    const n = first.length;
    if (n + more.length === checked.length) {
      let same = true;
      for (let k = 0; same && k < n; k++) same = first[k] === checked[k];
      for (let k = 0; same && k < more.length; k++) same = more[k] === checked[n + k];
      if (same) return;
    }
    const all = more.length > 0 ? first.concat(more) : first;
    const spans = all.map((a, i) => {
      const start = byteOffsetOf(a);
      return { buffer: bufferOf(a), start, end: start + lengthOf(a) * (isF32(a) ? 4 : 8), i };
    });
    const ids = new Map<ArrayBufferLike, number>();
    for (const s of spans) if (!ids.has(s.buffer)) ids.set(s.buffer, ids.size);
    spans.sort((a, b) => (ids.get(a.buffer) as number) - (ids.get(b.buffer) as number) || a.start - b.start);
    for (let k = 1; k < spans.length; k++) {
      const [a, b] = [spans[k - 1], spans[k]];
      if (a.buffer === b.buffer && b.start < a.end && a.end > a.start && b.end > b.start) {
        const [x, y] = a.i < b.i ? [a.i, b.i] : [b.i, a.i];
        throw new TypeError(
          `${label(y)}: shares memory with ${label(x)} (each parameter needs its own data, grad and state arrays)`,
        );
      }
    }
    this.checked[cache] = all;
  }

  private zerosLike(a: GradArray): () => GradArray {
    return () => zerosBeside(a);
  }

  /** The total norm, the coefficient and the bounds of the fused clip; null: skip the step. */
  private clipScalars(total: number | undefined): { c: number; lo: number; hi: number } | null {
    const { maxNorm, bounds, policy, p } = this.clip;
    if (maxNorm !== undefined && total !== undefined) {
      if (!Number.isFinite(total)) {
        if (policy === 'throw') throw new NonFiniteNormError(p, total);
        if (policy === 'skip') return null;
      }
      return { c: clipCoefficient(maxNorm, total), lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY };
    }
    const [lo, hi] = bounds ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
    return { c: 1, lo, hi };
  }

  /** Builds each group's backend call, creating and advancing the state (nothing can throw after this starts). */
  private calls(plan: Plan, scalars: { c: number; lo: number; hi: number }) {
    return plan.groups
      .map((g) => {
        if (g.params.length === 0) return undefined;
        const h = g.hyper;
        const hyper = new Float64Array(H.length);
        this.hyperOf(h, hyper);
        hyper[H.c] = scalars.c;
        hyper[H.lo] = scalars.lo;
        hyper[H.hi] = scalars.hi;
        hyper[H.sign] = h.maximize ? -1 : 1;
        const arrays: GradArray[] = [];
        const per: number[] = [];
        g.params.forEach((p, j) => {
          arrays.push(g.data[j], g.grads[j]);
          const read = g.state[j];
          if (read) {
            // The arrays checked at the start of the step; the step count and any new buffer go back.
            this.arraysOf(h, read, arrays, per);
            Object.assign(this.state.get(p) as ParamState, read);
          } else {
            const s = this.initState(h, this.zerosLike(g.data[j]));
            this.state.set(p, s);
            this.arraysOf(h, s, arrays, per);
          }
        });
        return { arrays, hyper, perTensor: Float64Array.from(per) };
      })
      .filter((x) => x !== undefined);
  }

  private enter(what: string): void {
    if (this.busy)
      throw new Error(`${this.name}.${what}: a stepAsync() of this optimizer is still running; await it first`);
  }

  /**
   * One optimization step over every parameter that has a gradient. With max_grad_norm: clips by the
   * total norm of all gradients inside the step (the gradients are not written) and returns that norm
   * (before clipping), else undefined.
   */
  step(): number | undefined {
    this.enter('step');
    const { plan, backend, grads } = this.begin(false);
    const total = grads && (grads.length === 0 ? 0 : totalNorm(grads, this.clip.p, backend));
    for (const call of this.finish(plan, total)) backend.step(this.kind, call.arrays, call.hyper, call.perTensor);
    return total;
  }

  /** step() off the JS thread on the native backend (the norm too); the same bits. One at a time per optimizer. */
  async stepAsync(): Promise<number | undefined> {
    this.enter('stepAsync');
    this.busy = true;
    try {
      const { plan, backend, grads } = this.begin(true);
      const total = grads && (grads.length === 0 ? 0 : await totalNormAsync(grads, this.clip.p, backend));
      for (const call of this.finish(plan, total)) {
        if (backend.stepAsync) await backend.stepAsync(this.kind, call.arrays, call.hyper, call.perTensor);
        else backend.step(this.kind, call.arrays, call.hyper, call.perTensor);
      }
      return total;
    } finally {
      this.busy = false;
    }
  }

  /** The checked plan, the backend, and the gradients the fused norm is over (undefined: no norm clip). */
  private begin(forAsync: boolean) {
    const plan = this.plan(forAsync);
    return { plan, backend: activeBackend(), grads: this.clip.maxNorm === undefined ? undefined : plan.grads };
  }

  /** The backend calls of a step, state advanced; none when a non-finite norm skips the step (or throws first). */
  private finish(plan: Plan, total: number | undefined) {
    const scalars = this.clipScalars(total);
    return scalars === null ? [] : this.calls(plan, scalars);
  }

  /**
   * Sets every gradient to 0 (fill(0)): JavaScript gradients usually live in arrays the training loop
   * reuses (a GradientBuffer), which torch's default set_to_none=True would throw away. Pass true
   * for torch's behaviour: each grad becomes null.
   */
  zero_grad(set_to_none = false): void {
    this.enter('zero_grad');
    const none = checkBoolean(set_to_none, 'set_to_none');
    for (const group of this.param_groups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g === null || g === undefined) continue;
        if (none) p.grad = null;
        else if (isGradArray(g)) g.fill(0);
      }
    }
  }

  /** camelCase alias of zero_grad. */
  zeroGrad(setToNone = false): void {
    this.zero_grad(setToNone);
  }

  /**
   * The state as torch's state_dict(): `state` by parameter index (counting through the groups in
   * order), `param_groups` with their hyperparameters and parameter indices. The arrays are copies:
   * a checkpoint does not change when training goes on. Plain data: v8.serialize, structuredClone and
   * postMessage take it as it is.
   */
  state_dict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    let index = 0;
    const param_groups = this.param_groups.map((group) => {
      const { params, ...hyper } = group;
      const ids = params.map((p) => {
        const s = this.state.get(p);
        if (s) {
          const copy: ParamState = {};
          for (const [k, v] of Object.entries(s)) {
            if (isGradArray(v) && lengthOf(v) === 0 && isDetachedView(v)) {
              throw new TypeError(`state_dict: optimizer.state of parameter ${index}: ${k} is detached`);
            }
            (copy as Record<string, unknown>)[k] = isGradArray(v) ? v.slice() : v;
          }
          state[index] = copy;
        }
        return index++;
      });
      const plain: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(hyper)) plain[k] = Array.isArray(v) ? [...v] : v;
      return { ...plain, params: ids };
    });
    return { state, param_groups };
  }

  stateDict(): OptimizerStateDict {
    return this.state_dict();
  }

  /**
   * Restores a state_dict(): the same number of groups with the same number of parameters each, each
   * state array of its parameter's dtype and length (copied in). The groups' hyperparameters are
   * restored too, and checked as the constructor checks them. Nothing changes if anything is wrong.
   */
  load_state_dict(stateDict: OptimizerStateDict): void {
    this.enter('load_state_dict');
    if (stateDict === null || typeof stateDict !== 'object' || !Array.isArray(stateDict.param_groups)) {
      throw new TypeError(`state_dict: expected { state, param_groups } from state_dict(), got ${describe(stateDict)}`);
    }
    const { state, param_groups: groups } = stateDict;
    if (state === null || typeof state !== 'object')
      throw new TypeError(`state_dict.state: expected an object, got ${describe(state)}`);
    if (groups.length !== this.param_groups.length) {
      throw new RangeError(
        `state_dict.param_groups: ${groups.length} groups, this optimizer has ${this.param_groups.length}`,
      );
    }
    const allowed = new Set(Object.keys(this.param_groups[0]).filter((k) => k !== 'params'));
    const hypers: Hyper[] = [];
    const states = new Map<Param, { state: ParamState; data: GradArray }>();
    groups.forEach((g, gi) => {
      const name = `state_dict.param_groups[${gi}]`;
      if (g === null || typeof g !== 'object' || !Array.isArray(g.params))
        throw new TypeError(`${name}: expected { params: number[], ... }`);
      const mine = this.param_groups[gi].params;
      if (g.params.length !== mine.length) {
        throw new RangeError(
          `${name}.params: ${g.params.length} parameters, this optimizer's group has ${mine.length}`,
        );
      }
      const { params: ids, ...rest } = g;
      const o = normalize(rest, name, allowed, false);
      const hyper: Hyper = {};
      for (const key of allowed) hyper[key] = (o[key] ?? this.param_groups[gi][key]) as Hyper[string];
      this.validate(hyper, name);
      hypers.push(hyper);
      ids.forEach((id, i) => {
        const s = (state as Record<number, unknown>)[id];
        if (s === undefined) return;
        const data = mine[i].data;
        states.set(mine[i], { state: this.checkState(s, data, `state_dict.state[${id}]`), data });
      });
    });
    hypers.forEach((h, gi) => {
      Object.assign(this.param_groups[gi], h);
    });
    this.state.clear();
    for (const [p, { state: s, data }] of states) {
      // The arrays copied in, each beside its parameter where the backend can place it (wasm arenas).
      for (const [k, v] of Object.entries(s)) {
        if (!isGradArray(v)) continue;
        const copy = zerosBeside(data);
        copy.set(v);
        (s as Record<string, unknown>)[k] = copy;
      }
      this.state.set(p, s);
    }
    this.checked = [[], []];
  }

  loadStateDict(stateDict: OptimizerStateDict): void {
    this.load_state_dict(stateDict);
  }

  /** One parameter's saved state, checked against the parameter's data (the arrays are copied in later). */
  private checkState(s: unknown, data: unknown, name: string): ParamState {
    if (s === null || typeof s !== 'object') throw new TypeError(`${name}: expected an object, got ${describe(s)}`);
    if (!isGradArray(data)) throw new TypeError(`${name}: its parameter has no Float32Array/Float64Array data`);
    const out: ParamState = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === 'step') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
          throw new RangeError(`${name}.step: expected an integer >= 0, got ${describe(v)}`);
        out.step = v;
      } else if (k === 'momentum_buffer' && v === null) {
        out.momentum_buffer = null;
      } else if (k === 'momentum_buffer' || k === 'exp_avg' || k === 'exp_avg_sq' || k === 'max_exp_avg_sq') {
        if (!isGradArray(v))
          throw new TypeError(`${name}.${k}: expected a Float32Array or Float64Array, got ${describe(v)}`);
        if (isF32(v) !== isF32(data) || lengthOf(v) !== lengthOf(data)) {
          throw new RangeError(
            `${name}.${k}: ${lengthOf(v)} ${isF32(v) ? 'float32' : 'float64'} elements for a parameter of ${lengthOf(data)} ${isF32(data) ? 'float32' : 'float64'}`,
          );
        }
        out[k] = v; // copied in when the whole state_dict has been checked
      } else {
        throw new TypeError(`${name}.${k}: not a key of this optimizer's state`);
      }
    }
    return out;
  }
}

/**
 * A zeroed array of `a`'s dtype and length for its optimizer state: beside `a` in the same wasm memory
 * when `a` lives in a GradientBuffer arena with room (see GradientBuffer's `reserve`), so the wasm
 * backend steps it in place; else an ordinary array.
 */
export function zerosBeside(a: GradArray): GradArray {
  const n = lengthOf(a);
  const f32 = isF32(a);
  const place = n > 0 ? activeBackend().allocateNear?.(bufferOf(a), n * (f32 ? 4 : 8)) : null;
  if (place)
    return f32 ? new Float32Array(place.buffer, place.offset, n) : new Float64Array(place.buffer, place.offset, n);
  return f32 ? new Float32Array(n) : new Float64Array(n);
}

// ---- the three optimizers ---------------------------------------------------------------------------

function checkLr(h: Hyper, name: string): number {
  return finiteNonNegative(h.lr, `${name}.lr`, 'the learning rate');
}

function checkFlag(h: Hyper, key: string, name: string): void {
  checkBoolean(h[key], `${name}.${key}`);
}

const SGD_DEFAULTS: Hyper = { lr: 1e-3, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false };

/** torch.optim.SGD (torch's single-tensor arithmetic, SPEC §8), with an optional fused clip. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Iterable<Param> | Iterable<ParamGroup<SGDOptions>>, options?: SGDOptions) {
    super(StepKind.Sgd, params, options, SGD_DEFAULTS, 'SGD');
  }

  protected validate(h: Hyper, name: string): void {
    checkLr(h, name);
    finiteNonNegative(h.momentum, `${name}.momentum`, 'momentum');
    finiteNonNegative(h.weight_decay, `${name}.weight_decay`, 'weight_decay');
    const damp = h.dampening;
    if (typeof damp !== 'number') throw new TypeError(`${name}.dampening: expected a number, got ${describe(damp)}`);
    if (!Number.isFinite(damp)) throw new RangeError(`${name}.dampening: must be finite, got ${damp}`);
    checkFlag(h, 'nesterov', name);
    checkFlag(h, 'maximize', name);
    if (h.nesterov && ((h.momentum as number) <= 0 || damp !== 0)) {
      throw new RangeError(`${name}.nesterov: Nesterov momentum requires a momentum and zero dampening`);
    }
  }

  protected hyperOf(h: Record<string, unknown>, hyper: Float64Array): void {
    hyper[H.weightDecay] = h.weight_decay as number;
    hyper[H.momentum] = h.momentum as number;
    hyper[H.damp1] = 1 - (h.dampening as number);
    hyper[H.negLr] = -(h.lr as number);
    hyper[H.nesterov] = h.nesterov ? 1 : 0;
  }

  protected initState(): ParamState {
    return { momentum_buffer: null };
  }

  protected arraysOf(h: Record<string, unknown>, s: ParamState, out: GradArray[], per: number[]): void {
    if (h.momentum === 0) {
      per.push(0, 0);
      return;
    }
    const first = s.momentum_buffer === null || s.momentum_buffer === undefined;
    if (first) s.momentum_buffer = zerosBeside(out[out.length - 2]);
    out.push(s.momentum_buffer as GradArray);
    per.push(first ? 1 : 0, 0);
  }
}

const ADAM_DEFAULTS: Hyper = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weight_decay: 0,
  amsgrad: false,
  maximize: false,
};

class AdamBase extends Optimizer<AdamOptions> {
  constructor(
    params: Iterable<Param> | Iterable<ParamGroup<AdamOptions>>,
    options: AdamOptions | undefined,
    private readonly decoupled: boolean,
  ) {
    super(
      StepKind.Adam,
      params,
      options,
      decoupled ? { ...ADAM_DEFAULTS, weight_decay: 1e-2 } : ADAM_DEFAULTS,
      decoupled ? 'AdamW' : 'Adam',
    );
  }

  protected validate(h: Hyper, name: string): void {
    checkLr(h, name);
    finiteNonNegative(h.eps, `${name}.eps`, 'eps');
    finiteNonNegative(h.weight_decay, `${name}.weight_decay`, 'weight_decay');
    const betas = h.betas;
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new TypeError(`${name}.betas: expected [beta1, beta2], got ${describe(betas)}`);
    betas.forEach((b, i) => {
      if (typeof b !== 'number') throw new TypeError(`${name}.betas[${i}]: expected a number, got ${describe(b)}`);
      if (!(b >= 0 && b < 1)) throw new RangeError(`${name}.betas[${i}]: must be in [0, 1), got ${b}`);
    });
    h.betas = [betas[0], betas[1]];
    checkFlag(h, 'amsgrad', name);
    checkFlag(h, 'maximize', name);
  }

  protected hyperOf(h: Record<string, unknown>, hyper: Float64Array): void {
    const [b1, b2] = h.betas as [number, number];
    const lr = h.lr as number;
    const wd = h.weight_decay as number;
    hyper[H.weightDecay] = this.decoupled ? 0 : wd;
    hyper[H.decoupled] = this.decoupled ? 1 : 0;
    hyper[H.decay] = this.decoupled ? 1 - lr * wd : 1;
    hyper[H.amsgrad] = h.amsgrad ? 1 : 0;
    hyper[H.beta1] = b1;
    hyper[H.omb1] = 1 - b1;
    hyper[H.beta2] = b2;
    hyper[H.omb2] = 1 - b2;
    hyper[H.eps] = h.eps as number;
  }

  protected initState(h: Record<string, unknown>, zeros: () => GradArray): ParamState {
    const s: ParamState = { step: 0, exp_avg: zeros(), exp_avg_sq: zeros() };
    if (h.amsgrad) s.max_exp_avg_sq = zeros();
    return s;
  }

  protected arraysOf(h: Record<string, unknown>, s: ParamState, out: GradArray[], per: number[]): void {
    if (h.amsgrad && !s.max_exp_avg_sq) s.max_exp_avg_sq = zerosBeside(out[out.length - 2]);
    out.push(s.exp_avg as GradArray, s.exp_avg_sq as GradArray);
    if (h.amsgrad) out.push(s.max_exp_avg_sq as GradArray);
    // torch 1.13: step_t += 1, then the bias corrections in double from step.
    const step = (s.step ?? 0) + 1;
    s.step = step;
    const [b1, b2] = h.betas as [number, number];
    const bc1 = 1 - b1 ** step;
    const bc2 = 1 - b2 ** step;
    per.push(-((h.lr as number) / bc1), Math.sqrt(bc2));
  }
}

/** torch.optim.Adam (L2 weight decay added to the gradient), with an optional fused clip. */
export class Adam extends AdamBase {
  constructor(params: Iterable<Param> | Iterable<ParamGroup<AdamOptions>>, options?: AdamOptions) {
    super(params, options, false);
  }
}

/** torch.optim.AdamW (decoupled weight decay, default 1e-2), with an optional fused clip. */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Param> | Iterable<ParamGroup<AdamOptions>>, options?: AdamOptions) {
    super(params, options, true);
  }
}

/** torch's import path: `optim.SGD`, `optim.Adam`, `optim.AdamW`. */
export const optim = { SGD, Adam, AdamW, Optimizer } as const;
