import { spawnSync } from 'node:child_process';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { rng } from './support/rng.js';

/**
 * Adaptive clipping (issue 14): AutoClip, ZClip and AGC, each replayed against an independent
 * implementation written here from the paper / reference algorithm (not the library's code), on
 * whichever backend this pass of `npm test` forces.
 */

const backend = `${g.getBackend().name}/${g.getBackend().isa}`;
const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** A recorded run of norms: a slow drift with noise, and spikes (×5–×40) now and then. */
function recordedNorms(seed: number, steps: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let t = 0; t < steps; t++) {
    const base = 2 * Math.exp(-t / 150) + 0.3 + 0.2 * r();
    out.push(r() < 0.06 ? base * (5 + 35 * r()) : base);
  }
  return out;
}

/** A one-element float64 gradient has exactly the norm it holds. */
const gradWithNorm = (norm: number) => new Float64Array([norm]);

/** Relative closeness for thresholds computed by two implementations with different rounding orders. */
function near(actual: number, expected: number, rel = 1e-13): void {
  if (Number.isNaN(expected) || !Number.isFinite(expected)) {
    expect(actual).toBe(expected);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

// ---- AutoClip ---------------------------------------------------------------------------------

/** Seetharaman et al., Algorithm 1: append the norm, clip at the p-th percentile of the history. */
class PaperAutoClip {
  history: number[] = [];
  constructor(
    readonly p: number,
    readonly window = Number.POSITIVE_INFINITY,
  ) {}
  step(norm: number): { threshold: number; coef: number } {
    this.history.push(norm);
    if (this.history.length > this.window) this.history.shift();
    const s = [...this.history].sort((a, b) => a - b);
    const pos = ((s.length - 1) * this.p) / 100;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, s.length - 1);
    const threshold = s[lo] + (s[hi] - s[lo]) * (pos - lo);
    return { threshold, coef: Math.min(1, threshold / (norm + 1e-6)) };
  }
}

describe(`AutoClip on ${backend}`, () => {
  for (const [p, window] of [
    [10, Number.POSITIVE_INFINITY],
    [50, Number.POSITIVE_INFINITY],
    [90, 40],
    [0, 7],
    [100, Number.POSITIVE_INFINITY],
    [25, 1],
  ] as const) {
    it(`percentile ${p}, window ${window}: every threshold and coefficient of a 400-step replay`, () => {
      const norms = recordedNorms(p * 7 + 3, 400);
      const clipper = new g.AutoClip({ percentile: p, window });
      const paper = new PaperAutoClip(p, window);
      let clippedSteps = 0;
      for (const norm of norms) {
        const grad = gradWithNorm(norm);
        const r = clipper.clip([grad]);
        const want = paper.step(norm);
        expect(r.totalNorm).toBe(norm);
        near(r.threshold, want.threshold);
        near(r.coefficient, want.coef);
        expect(r.clipped).toBe(r.coefficient !== 1);
        expect(r.skipped).toBe(false);
        near(grad[0], norm * want.coef);
        if (r.clipped) clippedSteps++;
      }
      expect(clipper.size).toBe(Math.min(norms.length, window));
      expect(clipper.history()).toEqual(Float64Array.from(norms.slice(-Math.min(norms.length, window))));
      if (p < 100) expect(clippedSteps).toBeGreaterThan(0);
    });
  }

  it('the first step clips at the norm itself (coefficient norm / (norm + 1e-6)), as the reference', () => {
    const clipper = new g.AutoClip();
    const grad = new Float32Array([3, 4]);
    const r = clipper.clip([grad]);
    expect(r.totalNorm).toBe(5);
    expect(r.threshold).toBe(5);
    expect(r.coefficient).toBe(5 / (5 + 1e-6));
    expect(r.clipped).toBe(true);
    expect(Array.from(grad)).toEqual([
      Math.fround(3 * Math.fround(5 / (5 + 1e-6))),
      Math.fround(4 * Math.fround(5 / (5 + 1e-6))),
    ]);
  });

  it('percentiles are numpy.percentile bit for bit (checked against numpy when python3 has it)', () => {
    const r = rng(99);
    const histories = Array.from({ length: 30 }, (_, k) =>
      Array.from({ length: 1 + ((k * 37) % 200) }, () => Math.exp(8 * r() - 4)),
    );
    const qs = [0, 3.3, 10, 25, 50, 66.6, 90, 99.9, 100];
    const ours = histories.map((h) =>
      qs.map((q) => {
        const c = new g.AutoClip({ percentile: q });
        c.load_state_dict({
          type: 'AutoClip',
          version: 1,
          percentile: q,
          window: Number.POSITIVE_INFINITY,
          history: Float64Array.from(h.slice(0, -1)),
        });
        return c.clip([gradWithNorm(h[h.length - 1])]).threshold;
      }),
    );
    const python = ['python3', '/usr/bin/python3'].find(
      (py) => spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0,
    );
    if (!python) {
      console.log('[adaptive] numpy not available: percentile compared with the paper formula only');
      histories.forEach((h, i) => {
        const s = [...h].sort((a, b) => a - b);
        qs.forEach((q, j) => {
          const pos = ((s.length - 1) * q) / 100;
          const lo = Math.floor(pos);
          near(ours[i][j], s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo));
        });
      });
      return;
    }
    const script =
      'import json,sys,numpy as np\nd=json.load(sys.stdin)\n' +
      'print(json.dumps([[float(np.percentile(h,q)).hex() for q in d["qs"]] for h in d["h"]]))';
    const run = spawnSync(python, ['-c', script], { input: JSON.stringify({ h: histories, qs }), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const numpy: string[][] = JSON.parse(run.stdout);
    const hex = (x: number) => {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(x);
      return b.toString('hex');
    };
    const fromPyHex = (s: string) => {
      // float.hex(): [-]0x1.<13 hex digits>p<exp> (or 0x0.0p+0)
      const m = /^(-?)0x([01])\.([0-9a-f]+)p([+-]\d+)$/.exec(s);
      if (!m) throw new Error(`unexpected float.hex() output ${s}`);
      const mant = Number.parseInt(m[2] + m[3].padEnd(13, '0'), 16) / 2 ** 52;
      return (m[1] ? -1 : 1) * mant * 2 ** Number(m[4]);
    };
    histories.forEach((_, i) => {
      qs.forEach((q, j) => {
        expect(hex(ours[i][j]), `history ${i} (n=${histories[i].length}), q=${q}`).toBe(hex(fromPyHex(numpy[i][j])));
      });
    });
  });

  it('state_dict mid-run (through v8.serialize) continues exactly like the uninterrupted run', () => {
    for (const window of [Number.POSITIVE_INFINITY, 30]) {
      const norms = recordedNorms(5, 120);
      const straight = new g.AutoClip({ window });
      const thresholds = norms.map((n) => straight.clip([gradWithNorm(n)]).threshold);
      const first = new g.AutoClip({ window });
      for (const n of norms.slice(0, 70)) first.clip([gradWithNorm(n)]);
      const saved = deserialize(serialize(first.state_dict()));
      const resumed = new g.AutoClip({ window });
      resumed.load_state_dict(saved);
      const rest = norms.slice(70).map((n) => resumed.clip([gradWithNorm(n)]).threshold);
      expect(rest).toEqual(thresholds.slice(70));
      expect(resumed.state_dict()).toEqual(straight.state_dict());
    }
  });

  it('a non-finite norm is never recorded; onNonFinite decides the step', () => {
    const skip = new g.AutoClip({ onNonFinite: 'skip' });
    skip.clip([gradWithNorm(2)]);
    const bad = new Float64Array([1, Number.NaN]);
    const r = skip.clip([bad]);
    expect(r.skipped).toBe(true);
    expect(r.clipped).toBe(false);
    expect(Number.isNaN(bad[1]) && bad[0] === 1).toBe(true);
    expect(skip.size).toBe(1);
    const thrower = new g.AutoClip({ onNonFinite: 'throw' });
    const inf = new Float64Array([Number.POSITIVE_INFINITY, 1]);
    expect(() => thrower.clip([inf])).toThrowError(g.NonFiniteNormError);
    expect(inf[1]).toBe(1);
    expect(thrower.size).toBe(0);
    const scale = new g.AutoClip();
    scale.clip([gradWithNorm(4)]);
    const nan = new Float32Array([1, Number.NaN]);
    const s = scale.clip([nan]);
    expect(s.coefficient).toBeNaN();
    expect(Number.isNaN(nan[0])).toBe(true); // torch's rule: a NaN norm makes every gradient NaN
    expect(scale.size).toBe(1);
  });

  it('bad options and states are refused, naming the option', () => {
    expect(() => new g.AutoClip({ percentile: 101 })).toThrowError(RangeError);
    expect(() => new g.AutoClip({ percentile: -1 })).toThrowError(/options.percentile/);
    expect(() => new g.AutoClip({ percentile: '10' as unknown as number })).toThrowError(TypeError);
    expect(() => new g.AutoClip({ window: 0 })).toThrowError(/options.window/);
    expect(() => new g.AutoClip({ window: 2.5 })).toThrowError(RangeError);
    expect(() => new g.AutoClip({ percentil: 5 } as unknown as g.AutoClipOptions)).toThrowError(
      /options.percentil: unknown option/,
    );
    expect(() => new g.AutoClip({ onNonFinite: 'ignore' as 'skip' })).toThrowError(RangeError);
    const c = new g.AutoClip({ window: 3 });
    expect(() => c.load_state_dict({ type: 'ZClip' } as unknown as g.AutoClipState)).toThrowError(TypeError);
    expect(() =>
      c.load_state_dict({ type: 'AutoClip', version: 1, percentile: 10, window: 3, history: new Float64Array(4) }),
    ).toThrowError(/more than the window/);
    expect(() =>
      c.load_state_dict({ type: 'AutoClip', version: 1, percentile: 10, window: 3, history: Float64Array.of(-1) }),
    ).toThrowError(RangeError);
    expect(() => c.clip(['x' as unknown as Float32Array])).toThrowError(TypeError);
    expect(c.size).toBe(0);
  });

  it('clipAsync gives the same results as clip, and refuses to overlap itself', async () => {
    const norms = recordedNorms(8, 60);
    const a = new g.AutoClip({ percentile: 30 });
    const b = new g.AutoClip({ percentile: 30 });
    for (const n of norms) {
      const ga = new Float32Array([n, n / 2]);
      const gb = new Float32Array([n, n / 2]);
      const ra = a.clip([ga]);
      const rb = await b.clipAsync([gb]);
      expect(rb).toEqual(ra);
      expect(bytes(gb)).toBe(bytes(ga));
    }
    const pending = b.clipAsync([new Float32Array(1 << 16).fill(1)]);
    expect(() => b.clip([new Float32Array(1)])).toThrowError(/has not settled/);
    await pending;
  });
});

// ---- ZClip ------------------------------------------------------------------------------------

interface PaperZOptions {
  alpha: number;
  zThresh: number;
  maxGradNorm: number | null;
  eps: number;
  warmupSteps: number;
  mode: 'zscore' | 'percentile';
  clipOption: 'adaptive_scaling' | 'mean';
  clipFactor: number;
  skipUpdateOnSpike: boolean;
}

const Z_DEFAULTS: PaperZOptions = {
  alpha: 0.97,
  zThresh: 2.5,
  maxGradNorm: 1.0,
  eps: 1e-6,
  warmupSteps: 25,
  mode: 'zscore',
  clipOption: 'adaptive_scaling',
  clipFactor: 1,
  skipUpdateOnSpike: false,
};

/** ZClip from Kumar et al. 2025 (Algorithm 1) and the reference's rules, written out plainly. */
function paperZClip(norms: number[], o: PaperZOptions) {
  const warm: number[] = [];
  let mu = 0;
  let v = 0;
  let ready = false;
  return norms.map((g) => {
    if (!ready) {
      warm.push(g);
      if (warm.length >= o.warmupSteps) {
        mu = warm.reduce((a, b) => a + b, 0) / warm.length;
        v = warm.reduce((a, b) => a + (b - mu) ** 2, 0) / warm.length;
        ready = true;
      }
      const coef = o.maxGradNorm === null ? 1 : Math.min(1, o.maxGradNorm / (g + 1e-6));
      return { threshold: o.maxGradNorm ?? Number.POSITIVE_INFINITY, coef, spike: false, warmup: true };
    }
    const sigma = Math.sqrt(v);
    const z = (g - mu) / (sigma + o.eps);
    let clip: number | null = null;
    if (o.mode === 'percentile') {
      if (g > mu + o.zThresh * sigma) clip = mu + o.zThresh * sigma;
    } else if (z > o.zThresh) {
      clip = o.clipOption === 'mean' ? mu : (mu + (o.zThresh * o.zThresh * sigma) / z) * o.clipFactor;
    }
    const ceiling = Math.min(clip ?? Number.POSITIVE_INFINITY, o.maxGradNorm ?? Number.POSITIVE_INFINITY);
    const coef = g > ceiling ? ceiling / (g + 1e-6) : 1;
    if (!(clip !== null && o.skipUpdateOnSpike)) {
      const x = clip ?? g;
      mu = o.alpha * mu + (1 - o.alpha) * x;
      v = o.alpha * v + (1 - o.alpha) * (x - mu) ** 2;
    }
    return { threshold: ceiling, coef, spike: clip !== null, warmup: false };
  });
}

describe(`ZClip on ${backend}`, () => {
  const variants: [string, Partial<PaperZOptions>][] = [
    ['the reference defaults', {}],
    ['maxGradNorm 10 (the adaptive threshold decides)', { maxGradNorm: 10 }],
    ['maxGradNorm null', { maxGradNorm: null }],
    ["clipOption 'mean'", { clipOption: 'mean', maxGradNorm: 50 }],
    ["mode 'percentile'", { mode: 'percentile', maxGradNorm: null }],
    ['skipUpdateOnSpike', { skipUpdateOnSpike: true, maxGradNorm: null }],
    [
      'clipFactor 0.7, alpha 0.9, zThresh 2, warm-up 5',
      { clipFactor: 0.7, alpha: 0.9, zThresh: 2, warmupSteps: 5, maxGradNorm: 100 },
    ],
  ];
  for (const [label, opts] of variants) {
    it(`${label}: every threshold, coefficient and spike of a 400-step replay`, () => {
      const o = { ...Z_DEFAULTS, ...opts };
      const norms = recordedNorms(label.length * 13, 400);
      const want = paperZClip(norms, o);
      const clipper = new g.ZClip(opts);
      let spikes = 0;
      norms.forEach((norm, t) => {
        const grad = gradWithNorm(norm);
        const r = clipper.clip([grad]);
        const w = want[t];
        expect(r.warmup, `step ${t}`).toBe(w.warmup);
        expect(r.spike, `step ${t}`).toBe(w.spike);
        near(r.threshold, w.threshold, 1e-12);
        near(r.coefficient, w.coef, 1e-12);
        near(grad[0], norm * w.coef, 1e-12);
        if (r.spike) spikes++;
      });
      expect(spikes).toBeGreaterThan(3);
      expect(clipper.statistics.initialized).toBe(true);
    });
  }

  it('warm-up: the first warmupSteps norms are clipped with torch’s rule at maxGradNorm and only collected', () => {
    const clipper = new g.ZClip({ warmupSteps: 3, maxGradNorm: 1 });
    const results = [0.5, 4, 2].map((n) => clipper.clip([gradWithNorm(n)]));
    expect(results.map((r) => r.warmup)).toEqual([true, true, true]);
    expect(results[0].coefficient).toBe(Math.min(1, 1 / (0.5 + 1e-6)));
    expect(results[1].coefficient).toBe(1 / (4 + 1e-6));
    const s = clipper.statistics;
    expect(s.initialized).toBe(true);
    expect(s.mean).toBe((0.5 + 4 + 2) / 3);
    expect(s.var).toBeCloseTo(((0.5 - s.mean) ** 2 + (4 - s.mean) ** 2 + (2 - s.mean) ** 2) / 3, 15);
    expect(clipper.clip([gradWithNorm(2)]).warmup).toBe(false);
  });

  it('the spike branch: threshold μ + zThresh²·σ/z, capped at maxGradNorm, and the EMA takes the threshold', () => {
    const clipper = new g.ZClip({ warmupSteps: 4, maxGradNorm: null });
    for (const n of [1, 1.2, 0.8, 1]) clipper.clip([gradWithNorm(n)]);
    const { mean, var: v } = clipper.statistics;
    const sigma = Math.sqrt(v);
    const r = clipper.clip([gradWithNorm(50)]);
    const z = (50 - mean) / (sigma + 1e-6);
    expect(r.spike).toBe(true);
    near(r.z, z, 1e-15);
    near(r.threshold, mean + (2.5 * 2.5 * sigma) / z, 1e-14);
    const after = clipper.statistics;
    near(after.mean, 0.97 * mean + 0.03 * r.threshold, 1e-15);
    near(after.var, 0.97 * v + 0.03 * (r.threshold - after.mean) ** 2, 1e-14);
  });

  it('skipUpdateOnSpike leaves the statistics untouched on a spike (and only then)', () => {
    const clipper = new g.ZClip({ warmupSteps: 4, skipUpdateOnSpike: true });
    for (const n of [1, 1.2, 0.8, 1]) clipper.clip([gradWithNorm(n)]);
    const before = clipper.statistics;
    expect(clipper.clip([gradWithNorm(60)]).spike).toBe(true);
    expect(clipper.statistics).toEqual(before);
    expect(clipper.clip([gradWithNorm(1.05)]).spike).toBe(false);
    expect(clipper.statistics.mean).not.toBe(before.mean);
  });

  it('state_dict mid-run (also mid-warm-up) continues exactly like the uninterrupted run', () => {
    const norms = recordedNorms(77, 200);
    for (const cut of [10, 120]) {
      const straight = new g.ZClip({ maxGradNorm: 5 });
      const thresholds = norms.map((n) => straight.clip([gradWithNorm(n)]).threshold);
      const first = new g.ZClip({ maxGradNorm: 5 });
      for (const n of norms.slice(0, cut)) first.clip([gradWithNorm(n)]);
      const resumed = new g.ZClip({ max_grad_norm: 5 } as g.ZClipOptions);
      resumed.loadStateDict(deserialize(serialize(first.stateDict())));
      expect(norms.slice(cut).map((n) => resumed.clip([gradWithNorm(n)]).threshold)).toEqual(thresholds.slice(cut));
    }
  });

  it('the reference’s snake_case option names are accepted', () => {
    const a = new g.ZClip({
      z_thresh: 3,
      warmup_steps: 10,
      clip_option: 'mean',
      skip_update_on_spike: true,
    } as g.ZClipOptions);
    expect([a.zThresh, a.warmupSteps, a.clipOption, a.skipUpdateOnSpike]).toEqual([3, 10, 'mean', true]);
  });

  it('a non-finite norm never enters the statistics', () => {
    const clipper = new g.ZClip({ warmupSteps: 2, onNonFinite: 'skip' });
    clipper.clip([gradWithNorm(1)]);
    const r = clipper.clip([new Float64Array([Number.NaN])]);
    expect(r.skipped).toBe(true);
    expect(clipper.statistics).toEqual({ mean: Number.NaN, var: Number.NaN, initialized: false, warmupNorms: 1 });
    clipper.clip([gradWithNorm(3)]);
    expect(clipper.statistics.mean).toBe(2);
  });

  it('bad options are refused, naming the option', () => {
    expect(() => new g.ZClip({ alpha: 1 })).toThrowError(/options.alpha/);
    expect(() => new g.ZClip({ zThresh: 0 })).toThrowError(RangeError);
    expect(() => new g.ZClip({ maxGradNorm: -1 })).toThrowError(/options.maxGradNorm/);
    expect(() => new g.ZClip({ warmupSteps: 0 })).toThrowError(/options.warmupSteps/);
    expect(() => new g.ZClip({ mode: 'median' as 'zscore' })).toThrowError(RangeError);
    expect(() => new g.ZClip({ clipOption: 'max' as 'mean' })).toThrowError(/options.clipOption/);
    expect(() => new g.ZClip({ skipUpdateOnSpike: 1 as unknown as boolean })).toThrowError(TypeError);
    expect(() => new g.ZClip({ zThresh: 2, z_thresh: 3 } as g.ZClipOptions)).toThrowError(/given twice/);
    expect(() => new g.ZClip({ warmup: 3 } as g.ZClipOptions)).toThrowError(/unknown option/);
    const c = new g.ZClip();
    expect(() =>
      c.load_state_dict({
        type: 'ZClip',
        version: 1,
        buffer: new Float64Array(30),
        initialized: false,
        mean: null,
        var: null,
      }),
    ).toThrowError(/warms up in 25/);
    expect(() =>
      c.load_state_dict({
        type: 'ZClip',
        version: 1,
        buffer: new Float64Array(0),
        initialized: true,
        mean: Number.NaN,
        var: 1,
      }),
    ).toThrowError(/state.mean/);
  });
});

// ---- AGC --------------------------------------------------------------------------------------

type Arr = Float32Array | Float64Array;
const squeezedVector = (shape: number[]) => shape.filter((d) => d !== 1).length <= 1;

/** Brock et al. 2021, eq. 3, written from the paper (timm's unit layout: dim 0 indexes the units). */
function paperAgc(data: Arr, grad: Arr, shape: number[], clipping: number, eps: number): number[] {
  const units = shape.length <= 1 ? 1 : shape[0];
  const len = data.length / units;
  const out: number[] = [];
  for (let u = 0; u < units; u++) {
    let w = 0;
    let gn = 0;
    for (let k = u * len; k < (u + 1) * len; k++) {
      w += data[k] * data[k];
      gn += grad[k] * grad[k];
    }
    const max = Math.max(Math.sqrt(w), eps) * clipping;
    const gnorm = Math.sqrt(gn);
    const coef = gnorm < max ? 1 : max / Math.max(gnorm, 1e-6);
    for (let k = u * len; k < (u + 1) * len; k++) out.push(coef);
  }
  return out;
}

function model(seed: number) {
  const r = rng(seed);
  const make = (Ctor: typeof Float32Array | typeof Float64Array, shape: number[], w: number, gs: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Ctor(n);
    const grad = new Ctor(n);
    for (let i = 0; i < n; i++) {
      data[i] = (r() - 0.5) * w;
      grad[i] = (r() - 0.5) * gs * (r() < 0.2 ? 100 : 1);
    }
    return { data, grad, shape };
  };
  return [
    make(Float32Array, [16, 8], 1, 0.01), // linear weight [out, in]
    make(Float32Array, [16], 0.1, 0.05), // its bias: one unit
    make(Float64Array, [8, 3, 3, 3], 0.5, 0.02), // conv weight [out, in, kh, kw]
    { data: new Float32Array(40), grad: new Float32Array(40).map(() => (r() - 0.5) * 0.01), shape: [10, 4] }, // zero-initialised
    make(Float32Array, [5, 70000], 1, 0.001), // rows longer than a block
  ];
}

describe(`agc on ${backend}`, () => {
  it('every unit matches the paper’s rule (λ = 0.01, ε = 1e-3), zero-initialised weights included', () => {
    const params = model(4);
    const originals = params.map((p) => p.grad.slice());
    const want = params.map((p) => paperAgc(p.data, p.grad, p.shape, 0.01, 1e-3));
    const r = g.agc(params);
    expect(r.units).toBe(16 + 1 + 8 + 10 + 5);
    let clipped = 0;
    params.forEach((p, i) => {
      const tol = p.grad instanceof Float32Array ? 2e-7 : 1e-13;
      let worst = 0;
      for (let k = 0; k < p.grad.length; k++) {
        const expected = originals[i][k] * want[i][k];
        const err = Math.abs(p.grad[k] - expected) / (Math.abs(expected) + 1e-300);
        if (err > worst) worst = err;
      }
      expect(worst, `parameter ${i}: largest relative error`).toBeLessThanOrEqual(tol);
      const len = p.shape.length <= 1 ? p.data.length : p.data.length / p.shape[0];
      for (let k = 0; k < want[i].length; k += len) if (want[i][k] !== 1) clipped++;
    });
    expect(r.clipped).toBe(clipped);
    expect(clipped).toBeGreaterThan(5);
    // The zero-initialised layer: every unit's ceiling is ε·λ = 1e-5.
    const zero = params[3];
    for (let u = 0; u < 10; u++) {
      const row = zero.grad.subarray(u * 4, u * 4 + 4);
      expect(Math.hypot(...row)).toBeLessThanOrEqual(1e-5 * (1 + 1e-6));
    }
  });

  it("each unit's norms are getTotalNorm([that unit]) bit for bit, so the result is the same on every backend", () => {
    const params = model(9);
    const expected = params.map((p) => {
      const out = p.grad.slice();
      const units = p.shape.length <= 1 ? 1 : p.shape[0];
      const len = p.data.length / units;
      for (let u = 0; u < units; u++) {
        const w = g.getTotalNorm(p.data.subarray(u * len, (u + 1) * len));
        const gn = g.getTotalNorm(p.grad.subarray(u * len, (u + 1) * len));
        const max = Math.max(w, 1e-3) * 0.01;
        const coef = gn < max ? 1 : max / Math.max(gn, 1e-6);
        const row = p.grad.subarray(u * len, (u + 1) * len);
        const target = out.subarray(u * len, (u + 1) * len);
        for (let k = 0; k < row.length; k++)
          target[k] = p.grad instanceof Float32Array ? Math.fround(row[k] * Math.fround(coef)) : row[k] * coef;
      }
      return out;
    });
    g.agc(params);
    params.forEach((p, i) => {
      expect(bytes(p.grad), `parameter ${i}`).toBe(bytes(expected[i]));
    });
  });

  it('excluded parameters (objects or a predicate) and null grads are left alone', () => {
    const params = model(11);
    const last = params[params.length - 1];
    const before = bytes(last.grad);
    const first = bytes(params[0].grad);
    g.agc(params, { exclude: [last] });
    expect(bytes(last.grad)).toBe(before);
    expect(bytes(params[0].grad)).not.toBe(first);
    const again = model(11);
    const r = g.agc(again, { exclude: (_, i) => i !== 1 });
    expect(r.units).toBe(1);
    expect(bytes(again[0].grad)).toBe(first);
    expect(g.agc([{ data: new Float32Array(3), grad: null }])).toEqual({ units: 0, clipped: 0 });
  });

  it("layout 'jax' (the paper's code): columns of 2-D/3-D weights, output channels of HWIO kernels, bit for bit", () => {
    const r = rng(31);
    const make = (Ctor: typeof Float32Array | typeof Float64Array, shape: number[], zero = false) => {
      const n = shape.reduce((x, y) => x * y, 1);
      const data = new Ctor(n).map(() => (zero ? 0 : (r() - 0.5) * 0.5));
      const grad = new Ctor(n).map(() => (r() - 0.5) * 0.02 * (r() < 0.1 ? 50 : 1));
      return { data, grad, shape };
    };
    const params = [
      make(Float32Array, [64, 48]), // linear [in, out]: 48 units of 64
      make(Float64Array, [5, 6, 7]), // multi-head linear: reduces dim 0, 42 units
      make(Float32Array, [3, 3, 8, 16]), // HWIO conv: 16 units of 72
      make(Float32Array, [1, 20]), // squeezes to a vector: one unit
      make(Float32Array, [40000, 3], true), // zero-initialised weights, rows longer than the scratch tile
    ];
    const originals = params.map((p) => p.grad.slice());
    // The paper's unitwise_norm, written out: a column's terms in row order, in double.
    const expected = params.map((p, i) => {
      const g = originals[i];
      const f32 = g instanceof Float32Array;
      const squeezed = p.shape.filter((d) => d !== 1).length <= 1;
      const columns = squeezed ? 1 : p.shape.length === 4 ? p.shape[3] : g.length / p.shape[0];
      const w2 = new Float64Array(columns);
      const g2 = new Float64Array(columns);
      for (let k = 0; k < g.length; k++) {
        const c = squeezed ? 0 : k % columns;
        w2[c] += p.data[k] * p.data[k];
        g2[c] += g[k] * g[k];
      }
      const out = g.slice();
      for (let k = 0; k < g.length; k++) {
        const c = squeezed ? 0 : k % columns;
        const max = Math.max(Math.sqrt(w2[c]), 1e-3) * 0.01;
        const gn = Math.sqrt(g2[c]);
        const coef = gn < max ? 1 : max / Math.max(gn, 1e-6);
        if (coef !== 1) out[k] = f32 ? Math.fround(g[k] * Math.fround(coef)) : g[k] * coef;
      }
      return { out, columns };
    });
    const result = g.agc(params, { layout: 'jax' });
    expect(result.units).toBe(48 + 42 + 16 + 1 + 3);
    expect(result.clipped).toBeGreaterThan(10);
    params.forEach((p, i) => {
      if (!squeezedVector(p.shape)) {
        // (the squeezed vector's norm takes the SPEC §6 lane order, not the column order: tolerance)
        expect(bytes(p.grad), `parameter ${i}`).toBe(bytes(expected[i].out));
      } else {
        for (let k = 0; k < p.grad.length; k++) near(p.grad[k], expected[i].out[k], 1e-6);
      }
    });
    expect(() =>
      g.agc([{ data: new Float32Array(32), grad: new Float32Array(32), shape: [2, 2, 2, 2, 2] }], { layout: 'jax' }),
    ).toThrowError(/1 to 4 dimensions/);
  });

  it("layout 'jax' on float64 weights with norms beyond double's range is rescued by a power-of-two scale", () => {
    const data = Float64Array.from({ length: 12 }, (_, k) => (k % 3 === 0 ? 1e200 : 3e199));
    const grad = Float64Array.from({ length: 12 }, (_, k) => (k % 3 === 0 ? 1e-200 : 2e-200));
    const before = grad.slice();
    g.agc([{ data, grad, shape: [4, 3] }], { layout: 'jax' });
    // ‖W_c‖ ≈ 2e200 ≫ ‖G_c‖·100, so nothing is clipped (without the rescue ‖W‖² = ∞ and ‖G‖² = 0).
    expect(bytes(grad)).toBe(bytes(before));
    const big = Float64Array.from({ length: 12 }, () => 1e200);
    g.agc([{ data: Float64Array.from({ length: 12 }, () => 1e-300), grad: big, shape: [4, 3] }], { layout: 'jax' });
    // ‖G_c‖ = 2e200 (finite after the rescue): scaled to ε·λ = 1e-5 per column.
    for (let c = 0; c < 3; c++) near(Math.hypot(big[c], big[c + 3], big[c + 6], big[c + 9]), 1e-5, 1e-9);
  });

  it('bad input is refused before anything is written', () => {
    const params = model(2);
    const snapshot = params.map((p) => bytes(p.grad));
    const bad = [...params, { data: new Float32Array(4), grad: new Float64Array(4), shape: [4] }];
    expect(() => g.agc(bad)).toThrowError(/grad: is a Float64Array, its data a Float32Array/);
    expect(() => g.agc([...params, { data: new Float32Array(4), grad: new Float32Array(3) }])).toThrowError(RangeError);
    expect(() => g.agc([...params, { data: new Float32Array(4), grad: new Float32Array(4), shape: [3] }])).toThrowError(
      /holds 3 elements/,
    );
    expect(() =>
      g.agc([...params, { data: [1, 2], grad: new Float32Array(2) } as unknown as g.AgcParameter]),
    ).toThrowError(/\.data: expected a Float32Array/);
    expect(() => g.agc([{ data: new Float32Array(1) } as g.AgcParameter])).toThrowError(/no grad property/);
    expect(() => g.agc(params, { clipping: 0 })).toThrowError(/options.clipping/);
    expect(() => g.agc(params, { eps: -1 })).toThrowError(RangeError);
    expect(() => g.agc(params, { layout: 'tf' as 'jax' })).toThrowError(/options.layout/);
    expect(() => g.agc(params, { exclude: 3 as unknown as [] })).toThrowError(/options.exclude/);
    expect(params.map((p) => bytes(p.grad))).toEqual(snapshot);
  });
});
