import { deserialize, serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { type GradArray, StepHyper as H, StepKind, stepWidth } from '../src/backends/backend.js';
import { jsBackend } from '../src/backends/js.js';
import { nativeBinding } from '../src/backends/native.js';
import { createWasmBackend, embeddedModules } from '../src/backends/wasm.js';
import { scalarWasm, simdWasm } from '../src/backends/wasm-modules.generated.js';
import * as g from '../src/index.js';
import { decode, fixtureNumber, loadOptimFixtures, type OptimFixtureCase } from './support/fixtures.js';
import { nativeConfigs, tryNative } from './support/native.js';
import { rng } from './support/rng.js';

/**
 * optim.SGD / Adam / AdamW (issue 12, SPEC §8): the 240 cases real PyTorch 1.13 produced
 * (test/fixtures/torch-1.13-optim.json.gz; the format is in the shared fixtures' README: per step,
 * p.grad = g, the clip, optimizer.step()), each run twice on the active backend — the torch loop
 * (clip function, then a step without clip) and the fused step — which must agree bit for bit and
 * with torch within 2e-6 (float32) / 1e-12 (float64) of each tensor's largest magnitude. Then the
 * kernels' identity across backends, instruction sets and thread counts, async, checkpoints, and
 * bad input.
 */

const { cases } = loadOptimFixtures();
const TOL = { float32: 2e-6, float64: 1e-12 } as const;
const CTORS = { sgd: g.SGD, adam: g.Adam, adamw: g.AdamW } as const;
const worst: Record<string, { params: number; state: number }> = {};

type P = { data: GradArray; grad: GradArray | null };

function runCase(c: OptimFixtureCase, fused: boolean) {
  const params: P[] = c.params.map((t, i) => ({ data: decode(t, 8 * (i % 3)), grad: null }));
  const clip: g.FusedClipOptions = {};
  if (fused && c.clip?.kind === 'norm')
    Object.assign(clip, { max_grad_norm: c.clip.max_norm, norm_type: c.clip.norm_type });
  if (fused && c.clip?.kind === 'value') clip.clip_value = c.clip.clip_value;
  const opt = new CTORS[c.optimizer](params, { ...(c.hyper as object), ...clip });
  const norms: (number | null)[] = [];
  for (const step of c.grads) {
    step.forEach((t, i) => {
      params[i].grad = t === null ? null : decode(t, 8);
    });
    let norm: number | null = null;
    if (!fused && c.clip?.kind === 'norm') {
      norm = g.clip_grad_norm_(params, c.clip.max_norm, c.clip.norm_type as g.NormType);
    }
    if (!fused && c.clip?.kind === 'value') g.clip_grad_value_(params, c.clip.clip_value);
    const r = opt.step();
    if (fused && c.clip?.kind === 'norm') norm = r as number;
    else expect(r).toBeUndefined();
    norms.push(norm);
  }
  return { params, opt, norms };
}

/** max |a − e| / max |e| over one tensor (0 when both are all-zero; Infinity when non-finite values disagree). */
function deviation(actual: GradArray, expected: GradArray): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const v of expected) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let worstDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) return Number.POSITIVE_INFINITY;
      continue;
    }
    worstDiff = Math.max(worstDiff, Math.abs(a - e));
  }
  return worstDiff === 0 ? 0 : scale === 0 ? Number.POSITIVE_INFINITY : worstDiff / scale;
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function stateBytes(opt: g.Optimizer<object>, params: P[]): string {
  return params
    .map((p) => {
      const s = opt.state.get(p);
      if (!s) return '-';
      return Object.entries(s)
        .map(
          ([k, v]) => `${k}:${v === null || typeof v === 'number' ? String(v) : bytes(v as GradArray).toString('hex')}`,
        )
        .join(',');
    })
    .join('|');
}

describe(`torch 1.13's optimizer fixtures (${cases.length} cases) on the ${g.getBackend().name} backend (${g.getBackend().isa})`, () => {
  afterAll(() => {
    const rows = Object.entries(worst).map(
      ([k, v]) => `${k}: params ${v.params.toExponential(2)}, state ${v.state.toExponential(2)}`,
    );
    console.log(`largest deviation from torch 1.13, relative to each tensor's largest magnitude — ${rows.join('; ')}`);
  });

  cases.forEach((c, n) => {
    const clipName = c.clip === null ? 'no clip' : c.clip.kind === 'norm' ? `norm ${c.clip.norm_type}` : 'value';
    it(`#${n} ${c.optimizer} ${c.dtype} ${clipName} ${c.grads.length} step(s) ${JSON.stringify(c.hyper)}`, () => {
      const plain = runCase(c, false);
      const fused = runCase(c, true);
      // Fused = unfused, bit for bit: parameters and state.
      plain.params.forEach((p, i) => {
        expect(bytes(fused.params[i].data).equals(bytes(p.data))).toBe(true);
      });
      expect(stateBytes(fused.opt, fused.params)).toBe(stateBytes(plain.opt, plain.params));
      expect(fused.norms).toEqual(plain.norms);
      // The clip norms, as the clip fixtures judge them.
      c.total_norms.forEach((t, s) => {
        const a = plain.norms[s];
        if (t === null || a === null) {
          expect(a).toBe(t);
          return;
        }
        const e = fixtureNumber(t);
        if (Number.isFinite(e))
          expect(Math.abs(a - e)).toBeLessThanOrEqual((c.dtype === 'float32' ? 2e-5 : 1e-10) * Math.abs(e));
        else expect(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))).toBe(true);
      });
      const tol = TOL[c.dtype];
      const key = `${c.optimizer} ${c.dtype}`;
      worst[key] ??= { params: 0, state: 0 };
      const w = worst[key];
      c.params_after.forEach((t, i) => {
        const d = deviation(plain.params[i].data, decode(t));
        w.params = Math.max(w.params, d);
        expect(d, `params_after[${i}]`).toBeLessThanOrEqual(tol);
      });
      c.state_after.forEach((expected, i) => {
        const mine = plain.opt.state.get(plain.params[i]) as Record<string, unknown> | undefined;
        for (const [key, e] of Object.entries(expected)) {
          if (e === null) continue;
          if (typeof e === 'number') {
            expect(mine?.[key], `state[${i}].${key}`).toBe(e);
            continue;
          }
          const d = deviation(mine?.[key] as GradArray, decode(e));
          w.state = Math.max(w.state, d);
          expect(d, `state[${i}].${key}`).toBeLessThanOrEqual(tol);
        }
        // Keys torch does not have: only SGD's momentum_buffer: null (torch 1.13 leaves it out).
        for (const key of Object.keys(mine ?? {})) {
          if (!(key in expected)) expect(mine?.[key], `state[${i}].${key}`).toBeNull();
        }
      });
    });
  });
});

// ---- the kernels: every backend, instruction set and thread count gives the same bits ----------------

const native = tryNative();
const modules = embeddedModules(simdWasm, scalarWasm);
const wasmBackends = [createWasmBackend(modules, true), createWasmBackend(modules, false)];

/** The step configurations the kernels are checked on (each with a norm-style coefficient, a clamp, or neither). */
function configs(): { name: string; kind: StepKind; hyper: Float64Array }[] {
  const make = (name: string, kind: StepKind, set: Partial<Record<keyof typeof H, number>>) => {
    const h = new Float64Array(H.length);
    h[H.c] = 1;
    h[H.lo] = Number.NEGATIVE_INFINITY;
    h[H.hi] = Number.POSITIVE_INFINITY;
    h[H.sign] = 1;
    h[H.damp1] = 1;
    h[H.decay] = 1;
    for (const [k, v] of Object.entries(set)) h[H[k as keyof typeof H]] = v as number;
    return { name, kind, hyper: h };
  };
  const adam = { beta1: 0.9, omb1: 1 - 0.9, beta2: 0.999, omb2: 1 - 0.999, eps: 1e-8 };
  return [
    make('sgd plain', StepKind.Sgd, { negLr: -0.1 }),
    make('sgd momentum wd clip', StepKind.Sgd, {
      negLr: -0.01,
      momentum: 0.9,
      damp1: 0.9,
      weightDecay: 1e-3,
      c: 0.3125,
    }),
    make('sgd nesterov maximize clamp', StepKind.Sgd, {
      negLr: -0.05,
      momentum: 0.5,
      nesterov: 1,
      sign: -1,
      lo: -0.5,
      hi: 0.25,
    }),
    make('adam amsgrad wd clip', StepKind.Adam, { ...adam, weightDecay: 0.01, amsgrad: 1, c: 0.7 }),
    make('adamw maximize clamp', StepKind.Adam, {
      ...adam,
      decoupled: 1,
      decay: 1 - 1e-3 * 0.01,
      sign: -1,
      lo: -1,
      hi: 1,
    }),
  ];
}

const SIZES = [0, 1, 7, 31, 33, 1000, 65_536 + 13, 140_001];

/** Fresh arrays for one configuration (grads with a NaN, an Infinity and ±0 sprinkled in), deterministic. */
function workload(kind: StepKind, hyper: Float64Array, Ctor: typeof Float32Array | typeof Float64Array, seed: number) {
  const r = rng(seed);
  const width = stepWidth(kind, hyper);
  const arrays: GradArray[] = [];
  SIZES.forEach((n, t) => {
    for (let j = 0; j < width; j++) {
      const a = new Ctor(n);
      for (let i = 0; i < n; i++) a[i] = j === 3 || j === 4 ? Math.abs(r()) * 0.01 : r() * 2 - 1;
      if (j === 1 && n > 40) {
        a[3] = t % 2 ? Number.NaN : -0;
        a[5] = Number.POSITIVE_INFINITY;
        a[7] = 1e-30;
      }
      arrays.push(a);
    }
  });
  const per = new Float64Array(2 * SIZES.length);
  return { arrays, per };
}

type StepBackend = { step(kind: StepKind, a: readonly GradArray[], h: Float64Array, per: Float64Array): void };

/** Three steps (the first with fresh momentum buffers), then every array's bytes. */
function threeSteps(
  backend: StepBackend,
  kind: StepKind,
  hyper: Float64Array,
  Ctor: typeof Float32Array | typeof Float64Array,
) {
  const { arrays, per } = workload(kind, hyper, Ctor, 1234 + kind * 7 + Ctor.BYTES_PER_ELEMENT);
  for (let s = 1; s <= 3; s++) {
    for (let t = 0; t < SIZES.length; t++) {
      per[2 * t] = kind === StepKind.Sgd ? (s === 1 ? 1 : 0) : -(1e-3 / (1 - 0.9 ** s));
      per[2 * t + 1] = kind === StepKind.Sgd ? 0 : Math.sqrt(1 - 0.999 ** s);
    }
    backend.step(kind, arrays, hyper, per);
  }
  return Buffer.concat(arrays.map(bytes)).toString('base64');
}

describe('the step kernels: the same bits on every backend, instruction set and thread count', () => {
  const { isas, each } = nativeConfigs(native);
  for (const cfg of configs()) {
    for (const Ctor of [Float32Array, Float64Array]) {
      it(`${cfg.name}, ${Ctor.name}: wasm SIMD, wasm scalar${isas.length ? `, native ${isas.join('/')} × threads 1, 2` : ''} = js`, () => {
        const expected = threeSteps(jsBackend, cfg.kind, cfg.hyper, Ctor);
        // A NaN was stored (the NaN and Infinity gradients): and it is the canonical one.
        const all = Buffer.from(expected, 'base64');
        if (Ctor === Float32Array) {
          const words = new Uint32Array(all.buffer, all.byteOffset, all.length / 4);
          const nans = words.filter((w) => (w & 0x7f800000) === 0x7f800000 && (w & 0x7fffff) !== 0);
          expect(nans.length).toBeGreaterThan(0);
          expect(nans.every((w) => w === 0x7fc00000)).toBe(true);
        }
        for (const w of wasmBackends) expect(threeSteps(w, cfg.kind, cfg.hyper, Ctor), `wasm ${w.isa}`).toBe(expected);
        each((label) =>
          expect(threeSteps(native as NonNullable<typeof native>, cfg.kind, cfg.hyper, Ctor), label).toBe(expected),
        );
      });
    }
  }
});

// ---- the optimizers: async, checkpoints, non-finite norms, zero_grad --------------------------------

function model(
  seed: number,
  Ctor: typeof Float32Array | typeof Float64Array = Float32Array,
  sizes = [300, 1, 70_000, 0, 17],
) {
  const r = rng(seed);
  return sizes.map((n) => {
    const data = new Ctor(n);
    for (let i = 0; i < n; i++) data[i] = r() - 0.5;
    return { data: data as GradArray, grad: new Ctor(n) as GradArray | null };
  });
}

function fillGrads(params: P[], seed: number, scale = 10): void {
  const r = rng(seed);
  for (const p of params) if (p.grad) for (let i = 0; i < p.grad.length; i++) p.grad[i] = (r() - 0.5) * scale;
}

/** The optimizer's state as text, whatever a test did to it (detached or foreign values included). */
function stateText(opt: g.Optimizer<object>): string {
  return [...opt.state.values()]
    .map((s) =>
      Object.entries(s)
        .map(([k, v]) => {
          if (!ArrayBuffer.isView(v)) return `${k}=${String(v)}`;
          return `${k}=${v.byteLength === 0 ? 'empty' : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
        })
        .join(','),
    )
    .join('|');
}

const snapshot = (params: P[]) => Buffer.concat(params.map((p) => bytes(p.data))).toString('hex');

describe('optimizers', () => {
  for (const [name, make] of [
    ['SGD', (ps: P[]) => new g.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, max_grad_norm: 1 })],
    [
      'Adam',
      (ps: P[]) => new g.Adam(ps, { lr: 1e-2, amsgrad: true, weight_decay: 1e-2, maxGradNorm: 1, normType: 'inf' }),
    ],
    ['AdamW', (ps: P[]) => new g.AdamW(ps, { lr: 1e-2, clipValue: { min: -0.5, max: 2 } })],
  ] as const) {
    it(`${name}: stepAsync gives step's bits and norm, and leaves the gradients unwritten`, async () => {
      const a = model(1);
      const b = model(1);
      const [oa, ob] = [make(a), make(b)];
      for (let s = 0; s < 3; s++) {
        fillGrads(a, s);
        fillGrads(b, s);
        const grads = snapshot(a.map((p) => ({ data: p.grad as GradArray, grad: null })));
        const [ra, rb] = [oa.step(), await ob.stepAsync()];
        expect(rb).toBe(ra);
        expect(snapshot(a.map((p) => ({ data: p.grad as GradArray, grad: null })))).toBe(grads);
      }
      expect(snapshot(b)).toBe(snapshot(a));
      expect(snapshot(a)).not.toBe(snapshot(model(1)));
    });

    it(`${name}: a checkpoint through v8.serialize resumes to the same bits as training straight on`, () => {
      const a = model(2);
      const oa = make(a);
      const b = model(2);
      const ob = make(b);
      for (let s = 0; s < 2; s++) {
        fillGrads(a, s);
        fillGrads(b, s);
        oa.step();
        ob.step();
      }
      const sd = ob.state_dict();
      const frozen = serialize(sd);
      const saved = deserialize(serialize({ params: b.map((p) => p.data), opt: sd }));
      const c = model(99).map((p, i) => ({ data: saved.params[i] as GradArray, grad: p.grad }));
      const oc = make(c);
      oc.load_state_dict(saved.opt);
      for (let s = 2; s < 4; s++) {
        fillGrads(a, s);
        fillGrads(c, s);
        oa.step();
        oc.step();
      }
      expect(snapshot(c)).toBe(snapshot(a));
      // The checkpoint holds copies: training on did not change it.
      fillGrads(b, 9);
      ob.step();
      expect(serialize(sd).equals(frozen)).toBe(true);
    });
  }

  it('a non-finite norm: scale (torch), throw before anything changes, or skip the step', () => {
    for (const policy of ['scale', 'throw', 'skip'] as const) {
      const ps = model(3);
      const opt = new g.Adam(ps, { max_grad_norm: 1, on_non_finite: policy });
      fillGrads(ps, 1);
      opt.step();
      const before = snapshot(ps);
      const state = serialize(opt.state_dict());
      fillGrads(ps, 2);
      (ps[0].grad as GradArray)[5] = Number.POSITIVE_INFINITY;
      if (policy === 'throw') {
        expect(() => opt.step()).toThrow(g.NonFiniteNormError);
      } else {
        expect(opt.step()).toBe(Number.POSITIVE_INFINITY);
      }
      if (policy === 'scale') {
        expect(snapshot(ps)).not.toBe(before);
      } else {
        expect(snapshot(ps)).toBe(before);
        expect(serialize(opt.state_dict()).equals(state)).toBe(true);
      }
    }
    const ps = model(4);
    expect(() => new g.SGD(ps, { maxGradNorm: 1, errorIfNonfinite: true }).step()).not.toThrow();
  });

  it('parameters without a gradient are left alone (no state, no step count), as torch skips them', () => {
    const ps = model(5);
    const opt = new g.Adam(ps);
    ps[2].grad = null;
    fillGrads(ps, 1);
    const frozen = bytes(ps[2].data).toString('hex');
    opt.step();
    opt.step();
    expect(bytes(ps[2].data).toString('hex')).toBe(frozen);
    expect(opt.state.has(ps[2])).toBe(false);
    expect(opt.state.get(ps[0])?.step).toBe(2);
  });

  it('param groups: each its own hyperparameters; the fused norm is over all groups (as clip_grad_norm_ over all)', () => {
    const a = model(6);
    const b = model(6);
    fillGrads(a, 1);
    fillGrads(b, 1);
    const fused = new g.SGD(
      [
        { params: a.slice(0, 2), lr: 0.5 },
        { params: a.slice(2), momentum: 0.9 },
      ],
      { lr: 0.1, max_grad_norm: 0.5 },
    );
    const plain = new g.SGD(
      [
        { params: b.slice(0, 2), lr: 0.5 },
        { params: b.slice(2), momentum: 0.9 },
      ],
      { lr: 0.1 },
    );
    const total = g.clip_grad_norm_(b, 0.5);
    plain.step();
    expect(fused.step()).toBe(total);
    expect(snapshot(a)).toBe(snapshot(b));
    expect(fused.param_groups.map((x) => [x.lr, x.momentum])).toEqual([
      [0.5, 0],
      [0.1, 0.9],
    ]);
  });

  it('zero_grad fills with 0 (the arrays are kept); zero_grad(true) sets grad to null as torch does', () => {
    const ps = model(7);
    fillGrads(ps, 1);
    const opt = new g.SGD(ps);
    const kept = ps[0].grad;
    opt.zero_grad();
    expect(ps[0].grad).toBe(kept);
    expect(ps.every((p) => (p.grad as GradArray).every((x) => x === 0))).toBe(true);
    opt.zeroGrad(true);
    expect(ps.every((p) => p.grad === null)).toBe(true);
  });

  it('a learning-rate schedule: param_groups[i].lr changes the next step, and is checked', () => {
    const ps = model(8);
    const opt = new g.SGD(ps, { lr: 0.1 });
    fillGrads(ps, 1);
    opt.param_groups[0].lr = 0;
    const before = snapshot(ps);
    opt.step();
    expect(snapshot(ps)).toBe(before);
    opt.param_groups[0].lr = Number.NaN;
    expect(() => opt.step()).toThrow(RangeError);
  });

  it('stepAsync: one at a time per optimizer; step/zero_grad refused meanwhile', async () => {
    const ps = model(9);
    fillGrads(ps, 1);
    const opt = new g.AdamW(ps, { max_grad_norm: 1 });
    const pending = opt.stepAsync();
    expect(() => opt.step()).toThrow(/still running/);
    expect(() => opt.zero_grad()).toThrow(/still running/);
    await expect(opt.stepAsync()).rejects.toThrow(/still running/);
    await pending;
    expect(() => opt.step()).not.toThrow();
  });
});

describe('wasm: optimizer state beside GradientBuffer parameters, stepped in place', () => {
  it("with room reserved, the state lives in the parameters' wasm memory; the bits equal the js backend's", () => {
    const before = g.getBackend().name;
    const sizes = [1000, 3, 70_000, 17];
    const run = (backend: 'wasm' | 'js', reserve: number | null) => {
      g.setBackend(backend);
      // null: plain arrays (copied through the scratch region); else one GradientBuffer with this reserve.
      const store =
        reserve === null
          ? { views: [...sizes, ...sizes].map((n) => new Float32Array(n)), flat: new Float32Array(0) }
          : new g.GradientBuffer([...sizes, ...sizes], { reserve });
      const ps = sizes.map((_, i) => ({
        data: store.views[i] as GradArray,
        grad: store.views[sizes.length + i] as GradArray | null,
      }));
      const r = rng(21);
      for (const v of store.views) for (let i = 0; i < v.length; i++) v[i] = r() - 0.5;
      const opt = new g.AdamW(ps, { lr: 1e-2, amsgrad: true, max_grad_norm: 0.5 });
      for (let s = 0; s < 3; s++) {
        fillGrads(ps, s);
        opt.step();
      }
      const beside = ps.every((p) => {
        const st = opt.state.get(p) as g.ParamState;
        return [st.exp_avg, st.exp_avg_sq, st.max_exp_avg_sq].every((a) => a?.buffer === store.flat.buffer);
      });
      return { bits: snapshot(ps), state: serialize(opt.state_dict()).toString('hex'), beside };
    };
    try {
      const reference = run('js', 0);
      const inPlace = run('wasm', 3 * g.GradientBuffer.bytesFor(sizes));
      const copied = run('wasm', null);
      expect(inPlace.beside).toBe(true);
      expect(copied.beside).toBe(false);
      expect(inPlace.bits).toBe(reference.bits);
      expect(copied.bits).toBe(reference.bits);
      expect(inPlace.state).toBe(reference.state);
    } finally {
      g.setBackend(before);
    }
  });

  it('reserve: a bad value is refused, naming it', () => {
    expect(() => new g.GradientBuffer([4], { reserve: -1 })).toThrow(
      /options\.reserve: expected an integer number of bytes >= 0/,
    );
    expect(() => new g.GradientBuffer([4], { reserve: '8' as never })).toThrow(TypeError);
    expect(g.GradientBuffer.bytesFor([1, 16, 17])).toBe(64 + 64 + 128);
    expect(g.GradientBuffer.bytesFor([1], 'float64')).toBe(64);
  });
});

describe.runIf(native)('the native binding checks every group itself (never trusting the facade)', () => {
  it('a group mixing lengths or dtypes, a short perTensor, a list that is not whole groups: errors, nothing written', () => {
    const b = nativeBinding();
    const h = configs()[1].hyper; // SGD with momentum: groups of 3
    const p = new Float32Array(8).fill(1);
    const before = bytes(p).toString('hex');
    const per = new Float64Array(2);
    expect(() => b.step([p, new Float32Array(7), new Float32Array(8)], StepKind.Sgd, h, per)).toThrow(
      /group 0 mixes lengths or dtypes/,
    );
    expect(() => b.step([p, new Float64Array(8), new Float32Array(8)], StepKind.Sgd, h, per)).toThrow(/group 0 mixes/);
    expect(() => b.step([p, new Float32Array(8)], StepKind.Sgd, h, per)).toThrow(/not a whole number of groups of 3/);
    expect(() => b.step([p, new Float32Array(8), new Float32Array(8)], StepKind.Sgd, h, new Float64Array(1))).toThrow(
      /perTensor: shorter/,
    );
    expect(() => b.step([p, new Float32Array(8), new Float32Array(8)], 7 as StepKind, h, per)).toThrow(/kind/);
    expect(() => b.step([p, new Float32Array(8), new Float32Array(8)], StepKind.Sgd, new Float64Array(3), per)).toThrow(
      /hyper/,
    );
    expect(bytes(p).toString('hex')).toBe(before);
  });
});

describe('bad input: a clear error naming the argument, before anything is written', () => {
  const cases: [string, () => unknown, RegExp, typeof TypeError | typeof RangeError][] = [
    ['no params', () => new g.SGD([]), /params: .*empty/, RangeError],
    ['not iterable', () => new g.SGD(5 as never), /params: expected an iterable/, TypeError],
    [
      'a typed array as a param',
      () => new g.SGD([new Float32Array(2)] as never),
      /params\[0\]: expected a parameter/,
      TypeError,
    ],
    ['negative lr', () => new g.SGD(model(1), { lr: -1 }), /options\.lr: must be >= 0/, RangeError],
    ['NaN lr', () => new g.Adam(model(1), { lr: Number.NaN }), /options\.lr: .*NaN/, RangeError],
    ['lr as a string', () => new g.Adam(model(1), { lr: '0.1' as never }), /options\.lr: expected a number/, TypeError],
    ['negative momentum', () => new g.SGD(model(1), { momentum: -0.1 }), /options\.momentum/, RangeError],
    [
      'nesterov without momentum',
      () => new g.SGD(model(1), { nesterov: true }),
      /Nesterov momentum requires/,
      RangeError,
    ],
    [
      'beta of 1',
      () => new g.Adam(model(1), { betas: [0.9, 1] }),
      /options\.betas\[1\]: must be in \[0, 1\)/,
      RangeError,
    ],
    [
      'betas not a pair',
      () => new g.Adam(model(1), { betas: [0.9] as never }),
      /options\.betas: expected \[beta1, beta2\]/,
      TypeError,
    ],
    ['negative eps', () => new g.AdamW(model(1), { eps: -1 }), /options\.eps/, RangeError],
    [
      'unknown option',
      () => new g.SGD(model(1), { learning_rate: 1 } as never),
      /options\.learning_rate: unknown option/,
      TypeError,
    ],
    ['both spellings', () => new g.SGD(model(1), { weight_decay: 1, weightDecay: 1 }), /same option/, TypeError],
    ['norm and value clip', () => new g.SGD(model(1), { max_grad_norm: 1, clip_value: 1 }), /both set/, TypeError],
    [
      'norm_type alone',
      () => new g.SGD(model(1), { norm_type: 1 }),
      /only means something with max_grad_norm/,
      TypeError,
    ],
    [
      'negative max_grad_norm',
      () => new g.SGD(model(1), { max_grad_norm: -1 }),
      /max_grad_norm: must be >= 0/,
      RangeError,
    ],
    [
      'clip in a group',
      () => new g.SGD([{ params: model(1), max_grad_norm: 1 } as never]),
      /optimizer-wide/,
      TypeError,
    ],
    [
      'bad policy',
      () => new g.SGD(model(1), { max_grad_norm: 1, onNonFinite: 'ignore' as never }),
      /on_non_finite/,
      RangeError,
    ],
    [
      'a param without data',
      () => new g.SGD([{ grad: null }] as never),
      /params\[0\]\.data: expected a Float32Array or Float64Array, got undefined/,
      TypeError,
    ],
    [
      'a 16-bit param',
      () => new g.SGD([{ data: g.float16(new Uint16Array(2)), grad: null }] as never),
      /params\[0\]\.data: expected a Float32Array or Float64Array, got HalfGradient/,
      TypeError,
    ],
    [
      'a param twice',
      () => {
        const p = model(1);
        return new g.SGD([...p, p[0]]);
      },
      /appears more than once/,
      TypeError,
    ],
  ];
  for (const [what, call, message, kind] of cases) {
    it(what, () => {
      let error: unknown;
      try {
        call();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(kind);
      expect(String((error as Error).message)).toMatch(message);
    });
  }

  const stepCases: [string, (ps: P[], opt: g.Adam) => void, RegExp, typeof TypeError | typeof RangeError][] = [
    [
      'a state array replaced by a shorter one',
      (ps, opt) => {
        (opt.state.get(ps[2]) as g.ParamState).exp_avg_sq = new Float32Array(3);
      },
      /params\[2\]\.data: 70000 float32 elements, but its optimizer state \(exp_avg_sq\) has 3 float32/,
      RangeError,
    ],
    [
      'a state array detached',
      (ps, opt) => {
        const st = opt.state.get(ps[0]) as g.ParamState;
        structuredClone((st.exp_avg as Float32Array).buffer, { transfer: [(st.exp_avg as Float32Array).buffer] });
      },
      /optimizer state \(exp_avg\) has 0 float32 \(detached\)/,
      RangeError,
    ],
    [
      'a state entry that is not an array',
      (ps, opt) => {
        (opt.state.get(ps[0]) as Record<string, unknown>).exp_avg = [1, 2, 3];
      },
      /optimizer\.state\.get\(params\[0\]\)\.exp_avg: expected a Float32Array/,
      TypeError,
    ],
    [
      'grad of another length',
      (ps) => {
        ps[1].grad = new Float32Array(2);
      },
      /params\[1\]\.grad: 2 elements for 1 of data/,
      RangeError,
    ],
    [
      'grad of another dtype',
      (ps) => {
        ps[0].grad = new Float64Array(300);
      },
      /params\[0\]\.grad: a Float64Array for Float32Array data/,
      TypeError,
    ],
    [
      'grad not an array',
      (ps) => {
        ps[0].grad = [1, 2] as never;
      },
      /params\[0\]\.grad: expected a Float32Array/,
      TypeError,
    ],
    [
      'data missing',
      (ps) => {
        (ps[4] as { data: unknown }).data = undefined;
      },
      /params\[4\]\.data: expected a Float32Array/,
      TypeError,
    ],
    [
      'one grad for two params',
      (ps) => {
        ps[4].grad = ps[2].grad;
        ps[4].data = new Float32Array(70_000);
      },
      /params\[4\]\.grad: shares memory with params\[2\]\.grad/,
      TypeError,
    ],
    [
      'grad is its own data',
      (ps) => {
        ps[0].grad = ps[0].data;
      },
      /params\[0\]\.grad: shares memory with params\[0\]\.data/,
      TypeError,
    ],
    [
      'grads overlapping in one buffer',
      (ps) => {
        const buf = new ArrayBuffer(4 * 400);
        ps[0].grad = new Float32Array(buf, 0, 300);
        ps[1].grad = new Float32Array(buf, 4 * 299, 1);
      },
      /params\[1\]\.grad: shares memory with params\[0\]\.grad/,
      TypeError,
    ],
    [
      'a state array that is its own gradient',
      (ps, opt) => {
        (opt.state.get(ps[0]) as { exp_avg: Float32Array }).exp_avg = ps[0].grad as Float32Array;
      },
      /optimizer\.state\.get\(params\[0\]\)\.exp_avg: shares memory with params\[0\]\.grad/,
      TypeError,
    ],
    [
      'two state arrays in one (exp_avg_sq is exp_avg)',
      (ps, opt) => {
        const s = opt.state.get(ps[1]) as { exp_avg: Float32Array; exp_avg_sq: Float32Array };
        s.exp_avg_sq = s.exp_avg;
      },
      /optimizer\.state\.get\(params\[1\]\)\.exp_avg_sq: shares memory with optimizer\.state\.get\(params\[1\]\)\.exp_avg/,
      TypeError,
    ],
    [
      "a state array overlapping another parameter's data",
      (ps, opt) => {
        const data = ps[2].data as Float32Array;
        const s = opt.state.get(ps[0]) as { exp_avg: Float32Array };
        const a = new Float32Array(data.length + s.exp_avg.length);
        ps[2].data = a.subarray(0, data.length);
        ps[2].data.set(data);
        s.exp_avg = a.subarray(data.length - 1, data.length - 1 + s.exp_avg.length);
      },
      /optimizer\.state\.get\(params\[0\]\)\.exp_avg: shares memory with params\[2\]\.data/,
      TypeError,
    ],
    [
      'data resized after the state was made',
      (ps) => {
        ps[0].data = new Float32Array(5);
        ps[0].grad = new Float32Array(5);
      },
      /params\[0\]\.data: 5 float32 elements, but its optimizer state \(exp_avg\) has 300 float32/,
      RangeError,
    ],
  ];
  for (const [what, spoil, message, kind] of stepCases) {
    it(`step(): ${what} — nothing written`, () => {
      const ps = model(11);
      const opt = new g.Adam(ps, { max_grad_norm: 1 });
      fillGrads(ps, 1);
      opt.step();
      spoil(ps, opt);
      fillGrads(
        ps.filter(
          (p) => p.data instanceof Float32Array && p.grad instanceof Float32Array && p.grad.length === p.data.length,
        ),
        2,
      );
      const before = snapshot(ps.filter((p) => p.data instanceof Float32Array));
      const state = stateText(opt);
      expect(() => opt.step()).toThrow(kind);
      expect(() => opt.step()).toThrow(message);
      expect(snapshot(ps.filter((p) => p.data instanceof Float32Array))).toBe(before);
      expect(stateText(opt)).toBe(state);
    });
  }

  it('load_state_dict refuses a state that does not fit, and changes nothing', () => {
    const ps = model(12);
    const opt = new g.Adam(ps);
    fillGrads(ps, 1);
    opt.step();
    const sd = opt.state_dict();
    const before = serialize(sd);
    const wrong = { ...sd, state: { ...sd.state, 0: { ...sd.state[0], exp_avg: new Float32Array(3) } } };
    expect(() => opt.load_state_dict(wrong)).toThrow(
      /state_dict\.state\[0\]\.exp_avg: 3 float32 elements for a parameter of 300/,
    );
    expect(() => opt.load_state_dict({ ...sd, param_groups: [] })).toThrow(/0 groups, this optimizer has 1/);
    const badLr = { ...sd, param_groups: [{ ...sd.param_groups[0], lr: -1 }] };
    expect(() => opt.load_state_dict(badLr)).toThrow(RangeError);
    expect(serialize(opt.state_dict()).equals(before)).toBe(true);
  });
});
