import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addingProblem as addingData, simpleRnn as rnn } from '../examples/adding-rnn.mjs';
import * as g from '../src/index.js';
import * as gt from '../src/tfjs.js';
import { rng } from './support/rng.js';

/**
 * gradclip/tfjs against real TensorFlow.js (no mocks): the cpu and wasm backends in Node, every input
 * form, the norm bit for bit equal to clip_grad_norm_ on the same arrays, ownership and leaks, and
 * withGradClipping through model.fit. (webgl / webgpu run in Chromium: scripts/test-runtimes.mjs.)
 */

const hex = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer).toString('hex');

function randomTensors(seed: number, shapes: number[][]): tf.Tensor[] {
  const r = rng(seed);
  return shapes.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const scale = 2 ** Math.floor(r() * 6 - 3);
    for (let i = 0; i < n; i++) v[i] = (r() - 0.5) * scale;
    return tf.tensor(v, shape, 'float32');
  });
}

const SHAPES = [[300, 70], [70], [1], [65537], [3, 4, 5]];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradclip/tfjs on tfjs ${backend} (gradclip ${g.getBackend().name})`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backend)).toBe(true);
    });
    afterAll(() => {
      tf.disposeVariables();
    });

    const transport = backend === 'cpu' ? 'in-place' : 'wasm-heap';

    it('the norm and the clipped values are clip_grad_norm_’s on the same arrays, bit for bit; in place', () => {
      for (const normType of [2, 1, 3, 'inf', 0.5] as const) {
        const ts = randomTensors(7, SHAPES);
        const arrays = ts.map((t) => Float32Array.from(t.dataSync()));
        const expectedNorm = g.clip_grad_norm_(arrays, 1e-3, normType);
        const r = gt.clipGradNorm(ts, 1e-3, { normType });
        expect(r.transport).toBe(transport);
        expect(r.reason).toBeUndefined();
        expect(r.totalNorm).toBe(expectedNorm);
        expect(r.clipped).toBe(true);
        r.grads.forEach((t, i) => {
          expect(t).toBe(ts[i]); // scaled in place: the same tensor objects
          expect(hex(t.dataSync())).toBe(hex(arrays[i]));
        });
        tf.dispose(ts);
      }
    });

    it('every input form comes back in the same form, names kept', () => {
      const [a, b] = randomTensors(3, [[5, 3], [4]]);
      const map = gt.clipGradNorm({ 'dense/kernel': a, 'dense/bias': b }, 0.01);
      expect(Object.keys(map.grads)).toEqual(['dense/kernel', 'dense/bias']);
      expect(map.grads['dense/kernel']).toBe(a);
      const named = gt.clipGradNorm(
        [
          { name: 'w', tensor: a },
          { name: 'b', tensor: b },
        ],
        0.001,
      );
      expect(named.grads.map((n) => n.name)).toEqual(['w', 'b']);
      expect(named.grads[1].tensor).toBe(b);
      const list = gt.clipGradNorm([a, b], 1e-4);
      expect(list.grads).toEqual([a, b]);
      expect(gt.clipGradNorm([], 1)).toEqual({ grads: [], totalNorm: 0, transport: 'in-place', clipped: false });
      tf.dispose([a, b]);
    });

    it('a coefficient of 1 writes and allocates nothing: the inputs are returned', () => {
      const ts = randomTensors(4, SHAPES);
      const before = ts.map((t) => hex(t.dataSync()));
      const count = tf.memory().numTensors;
      const r = gt.clipGradNorm(ts, 1e9);
      expect(r.clipped).toBe(false);
      expect(r.grads).toEqual(ts);
      expect(tf.memory().numTensors).toBe(count);
      expect(ts.map((t) => hex(t.dataSync()))).toEqual(before);
      tf.dispose(ts);
    });

    it('storage shared with another live tensor (a reshape, or a tensor listed twice) is never written in place', () => {
      const [a] = randomTensors(5, [[6]]);
      const view = a.reshape([2, 3]);
      const original = hex(a.dataSync());
      const arrays = [Float32Array.from(a.dataSync()), Float32Array.from(a.dataSync())];
      const expected = g.clip_grad_norm_(arrays, 0.1);
      const r = gt.clipGradNorm([a, view], 0.1);
      expect(r.totalNorm).toBe(expected); // both counted, as torch counts a listed-twice tensor
      expect(r.reason).toMatch(/sharing storage/);
      expect(r.grads[0]).not.toBe(a);
      expect(r.grads[1]).not.toBe(view);
      expect(hex(a.dataSync())).toBe(original);
      expect(hex(r.grads[0].dataSync())).toBe(hex(arrays[0]));
      expect(hex(r.grads[1].dataSync())).toBe(hex(arrays[1]));
      expect(r.grads[1].shape).toEqual([2, 3]);
      const twice = gt.clipGradNorm([a, a], 0.1);
      expect(twice.grads[0]).not.toBe(a);
      expect(hex(a.dataSync())).toBe(original);
      tf.dispose([a, view, ...r.grads, ...twice.grads]);
    });

    it("inPlace: false gives new tensors (the 'copy' transport) and leaves the inputs alone", () => {
      const ts = randomTensors(6, SHAPES);
      const before = ts.map((t) => hex(t.dataSync()));
      const arrays = ts.map((t) => Float32Array.from(t.dataSync()));
      const expected = g.clip_grad_norm_(arrays, 0.2);
      const count = tf.memory().numTensors;
      const r = gt.clipGradNorm(ts, 0.2, { inPlace: false, disposeInputs: true });
      expect(r.transport).toBe('copy');
      expect(r.reason).toBe('inPlace: false');
      expect(r.totalNorm).toBe(expected);
      r.grads.forEach((t, i) => {
        expect(t).not.toBe(ts[i]);
        expect(hex(t.dataSync())).toBe(hex(arrays[i]));
        expect(ts[i].isDisposed).toBe(true); // disposeInputs: the replaced inputs are disposed
      });
      expect(tf.memory().numTensors).toBe(count);
      expect(before).toHaveLength(ts.length);
      tf.dispose(r.grads);
    });

    it('clipGradValue (torch’s rule and { min, max }) and getTotalNorm', () => {
      const ts = randomTensors(8, SHAPES);
      const arrays = ts.map((t) => Float32Array.from(t.dataSync()));
      expect(gt.getTotalNorm(ts, { normType: 'inf' })).toBe(g.get_total_norm(arrays, 'inf'));
      g.clip_grad_value_(arrays, 0.01);
      const r = gt.clipGradValue(ts, 0.01);
      expect(r.transport).toBe(transport);
      r.grads.forEach((t, i) => {
        expect(hex(t.dataSync())).toBe(hex(arrays[i]));
      });
      g.clipGradValue(arrays, { min: -0.001, max: 0.005 });
      gt.clipGradValue(ts, { min: -0.001, max: 0.005 });
      ts.forEach((t, i) => {
        expect(hex(t.dataSync())).toBe(hex(arrays[i]));
      });
      expect(() => gt.clipGradValue(ts, { min: 1, max: 0 })).toThrow(RangeError);
      tf.dispose(ts);
    });

    it('the async form gives the same result', async () => {
      const a = randomTensors(9, SHAPES);
      const b = a.map((t) => t.clone());
      const ra = gt.clipGradNorm(a, 0.3);
      const rb = await gt.clipGradNormAsync(b, 0.3);
      expect(rb.totalNorm).toBe(ra.totalNorm);
      expect(rb.grads.map((t) => hex(t.dataSync()))).toEqual(ra.grads.map((t) => hex(t.dataSync())));
      tf.dispose([...a, ...b]);
    });

    it('bad input is refused before anything is written, naming the key', () => {
      const [w] = randomTensors(10, [[4]]);
      const before = hex(w.dataSync());
      const ints = tf.tensor([1, 2], [2], 'int32');
      expect(() => gt.clipGradNorm({ w, step: ints }, 0.1)).toThrow(
        /grads\.step: gradients must be float32 tensors, got dtype 'int32'/,
      );
      expect(() => gt.clipGradNorm([w, 3 as unknown as tf.Tensor], 0.1)).toThrow(TypeError);
      expect(() => gt.clipGradNorm([w], -1)).toThrow(/maxNorm: must be >= 0/);
      expect(() => gt.clipGradNorm([w], 0.1, { normtype: 2 } as never)).toThrow(/options.normtype: unknown option/);
      expect(() => gt.clipGradNorm(w as never, 0.1)).toThrow(/expected a NamedTensorMap/);
      const dead = tf.tensor([1]);
      dead.dispose();
      expect(() => gt.clipGradNorm([w, dead], 0.1)).toThrow(/\[1\]: the tensor is disposed/);
      const nan = tf.tensor([Number.NaN, 1]);
      expect(() => gt.clipGradNorm([w, nan], 0.1, { onNonFinite: 'throw' })).toThrow(g.NonFiniteNormError);
      const skipped = gt.clipGradNorm([w, nan], 0.1, { onNonFinite: 'skip' });
      expect(skipped.clipped).toBe(false);
      expect(hex(w.dataSync())).toBe(before);
      tf.dispose([w, ints, nan]);
    });

    it('withGradClipping: an unclipped RNN blows up, the wrapped optimizer trains it through model.fit', async () => {
      const { xs, ys } = addingData(256, 20, 7);
      const losses: Record<string, number[]> = {};
      for (const clip of [false, true]) {
        const model = rnn();
        const opt = tf.train.sgd(0.2);
        const wrapped = clip ? gt.withGradClipping(opt, { maxNorm: 1 }) : opt;
        model.compile({ optimizer: wrapped, loss: 'meanSquaredError' });
        const h = await model.fit(xs, ys, { epochs: 4, batchSize: 32, verbose: 0, shuffle: false });
        losses[String(clip)] = h.history.loss as number[];
        if (clip) {
          const stats = (wrapped as typeof wrapped & { gradclip: gt.GradClippingStats }).gradclip;
          expect(stats.steps).toBe(32);
          expect(stats.clippedSteps).toBeGreaterThan(0);
          expect(stats.transport).toBe(transport);
          expect(Number.isFinite(stats.lastTotalNorm)).toBe(true);
          expect(opt.getClassName()).toBe('SGD'); // the same optimizer: class and config kept
          expect(opt.getConfig()).toEqual({ learningRate: 0.2 });
        }
        model.dispose();
      }
      // Unclipped, the loss explodes (to NaN on cpu, to Infinity on wasm: the backends round differently).
      expect(losses.false.some((l) => !Number.isFinite(l) || l > 1e3)).toBe(true);
      expect(losses.true.every(Number.isFinite)).toBe(true);
      expect(losses.true[3]).toBeLessThan(losses.true[0]);
      tf.dispose([xs, ys]);
    });

    it('a custom computeGradients loop: the RNN blows up unclipped and trains with clipGradNorm', () => {
      const { xs, ys } = addingData(128, 20, 9);
      const losses: Record<string, number[]> = {};
      for (const clip of [false, true]) {
        const model = rnn();
        const opt = tf.train.sgd(0.2);
        const run: number[] = [];
        for (let step = 0; step < 40; step++) {
          const { value, grads } = opt.computeGradients(
            () => tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor) as tf.Scalar,
            model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
          );
          run.push(value.dataSync()[0]);
          const { grads: out } = clip ? gt.clipGradNorm(grads, 1, { disposeInputs: true }) : { grads };
          opt.applyGradients(out);
          tf.dispose([value, out]);
          if (!Number.isFinite(run[run.length - 1]) || run[run.length - 1] > 1e6) break;
        }
        losses[String(clip)] = run;
        model.dispose();
        opt.dispose();
      }
      expect(losses.false.some((l) => !Number.isFinite(l) || l > 1e3)).toBe(true);
      expect(losses.true).toHaveLength(40);
      expect(losses.true.every(Number.isFinite)).toBe(true);
      expect(Math.min(...losses.true.slice(-5))).toBeLessThan(losses.true[0]);
      tf.dispose([xs, ys]);
    });

    it('getTotalNormAsync is getTotalNorm', async () => {
      const ts = randomTensors(15, SHAPES);
      expect(await gt.getTotalNormAsync(ts, { normType: 3 })).toBe(gt.getTotalNorm(ts, { normType: 3 }));
      tf.dispose(ts);
    });

    it('withGradClipping: no tensor leaks over 1,000 steps of a custom computeGradients loop', () => {
      const r = rng(12);
      const w = tf.variable(
        tf.tensor(
          Float32Array.from({ length: 64 }, () => r() - 0.5),
          [8, 8],
        ),
      );
      const x = tf.tensor(
        Float32Array.from({ length: 32 }, () => r() * 10),
        [4, 8],
      );
      const opt = gt.withGradClipping(tf.train.adam(0.01), { maxNorm: 0.5, clipValue: 0.2 });
      const step = () => {
        opt.minimize(() => tf.sum(tf.square(tf.matMul(x, w))) as tf.Scalar);
      };
      step();
      const count = tf.memory().numTensors;
      for (let i = 0; i < 1000; i++) step();
      expect(tf.memory().numTensors).toBe(count);
      expect(opt.gradclip.steps).toBe(1001);
      // A custom loop: computeGradients, clip, applyGradients, dispose.
      const plain = tf.train.sgd(0.01);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 1000; i++) {
        const { value, grads } = plain.computeGradients(() => tf.sum(tf.square(tf.matMul(x, w))) as tf.Scalar, [w]);
        const { grads: clipped } = gt.clipGradNorm(grads, 0.5, { inPlace: i % 2 === 0, disposeInputs: true });
        plain.applyGradients(clipped);
        tf.dispose([value, clipped]);
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([w, x]);
      opt.dispose();
      plain.dispose();
    });

    it('withGradClipping refuses bad options and a second wrap', () => {
      const opt = tf.train.sgd(0.1);
      expect(() => gt.withGradClipping(opt, {})).toThrow(/give maxNorm/);
      expect(() => gt.withGradClipping(opt, { maxNorm: -1 })).toThrow(RangeError);
      expect(() => gt.withGradClipping(opt, { maxNorm: 1, clipValue: { min: 2, max: 1 } })).toThrow(RangeError);
      expect(() => gt.withGradClipping({} as tf.Optimizer, { maxNorm: 1 })).toThrow(/expected a tf.Optimizer/);
      gt.withGradClipping(opt, { maxNorm: 1 });
      expect(() => gt.withGradClipping(opt, { maxNorm: 1 })).toThrow(/already wrapped/);
    });
  });
}

describe('gradclip/tfjs: the copy transport', () => {
  it('tensors on two tfjs backends go through dataSync copies and come back as new tensors', async () => {
    await tf.setBackend('cpu');
    const [a] = randomTensors(13, [[50, 3]]);
    await tf.setBackend('wasm');
    const [b] = randomTensors(14, [[7]]);
    const arrays = [Float32Array.from(a.dataSync()), Float32Array.from(b.dataSync())];
    const before = [hex(arrays[0]), hex(arrays[1])];
    const expected = g.clip_grad_norm_(arrays, 0.05);
    const r = gt.clipGradNorm({ a, b }, 0.05);
    expect(r.transport).toBe('copy');
    expect(r.reason).toBe('the tensors live on different tfjs backends');
    expect(r.totalNorm).toBe(expected);
    expect(r.grads.a).not.toBe(a);
    expect(hex(r.grads.a.dataSync())).toBe(hex(arrays[0]));
    expect(hex(r.grads.b.dataSync())).toBe(hex(arrays[1]));
    expect(r.grads.a.shape).toEqual([50, 3]);
    expect([hex(a.dataSync()), hex(b.dataSync())]).toEqual(before); // the inputs are left alone
    tf.dispose([a, b, r.grads.a, r.grads.b]);
  });
});
