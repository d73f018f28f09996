import type { Random } from './rng.js';

/**
 * A vanilla tanh RNN with a linear read-out of the last state, and backpropagation
 * through time — the model Pascanu, Mikolov & Bengio (arXiv:1211.5063) study:
 *   h_t = tanh(Wxh·x_t + Whh·h_{t−1} + bh),  y = Why·h_T + by,  loss = mean (y − target)².
 * Each parameter is a { data, grad } pair, the shape clip_grad_norm_ takes.
 */

export interface Param {
  name: string;
  data: Float64Array;
  grad: Float64Array;
}

export interface Batch {
  /** inputs[b][t·inputSize + k] */
  inputs: Float64Array[];
  targets: Float64Array;
  length: number;
}

export class Rnn {
  readonly params: Param[];
  private readonly wxh: Param;
  private readonly whh: Param;
  private readonly bh: Param;
  private readonly why: Param;
  private readonly by: Param;

  constructor(
    readonly inputSize: number,
    readonly hidden: number,
    rng: Random,
    recurrentScale: number,
  ) {
    const p = (name: string, n: number, scale: number): Param => {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = rng.normal() * scale;
      return { name, data, grad: new Float64Array(n) };
    };
    this.wxh = p('Wxh', hidden * inputSize, 1 / Math.sqrt(inputSize));
    // Gaussian recurrent weights with spectral radius ≈ recurrentScale (circular law).
    this.whh = p('Whh', hidden * hidden, recurrentScale / Math.sqrt(hidden));
    this.bh = p('bh', hidden, 0);
    this.why = p('Why', hidden, 1 / Math.sqrt(hidden));
    this.by = p('by', 1, 0);
    this.params = [this.wxh, this.whh, this.bh, this.why, this.by];
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** Mean squared error over the batch; with `backward`, accumulates the gradients of it. */
  loss(batch: Batch, backward: boolean): number {
    const { hidden: H, inputSize: I } = this;
    const T = batch.length;
    const B = batch.inputs.length;
    const wxh = this.wxh.data;
    const whh = this.whh.data;
    const bh = this.bh.data;
    const why = this.why.data;
    const states = new Float64Array((T + 1) * H);
    const dh = new Float64Array(H);
    const da = new Float64Array(H);
    let total = 0;
    for (let b = 0; b < B; b++) {
      const x = batch.inputs[b];
      states.fill(0, 0, H);
      for (let t = 1; t <= T; t++) {
        const prev = (t - 1) * H;
        const cur = t * H;
        for (let i = 0; i < H; i++) {
          let a = bh[i];
          for (let k = 0; k < I; k++) a += wxh[i * I + k] * x[(t - 1) * I + k];
          for (let j = 0; j < H; j++) a += whh[i * H + j] * states[prev + j];
          states[cur + i] = Math.tanh(a);
        }
      }
      let y = this.by.data[0];
      for (let i = 0; i < H; i++) y += why[i] * states[T * H + i];
      const err = y - batch.targets[b];
      total += err * err;
      if (!backward) continue;
      const dy = (2 * err) / B;
      this.by.grad[0] += dy;
      for (let i = 0; i < H; i++) {
        this.why.grad[i] += dy * states[T * H + i];
        dh[i] = dy * why[i];
      }
      for (let t = T; t >= 1; t--) {
        const prev = (t - 1) * H;
        const cur = t * H;
        for (let i = 0; i < H; i++) {
          const h = states[cur + i];
          da[i] = dh[i] * (1 - h * h);
        }
        for (let i = 0; i < H; i++) {
          const d = da[i];
          this.bh.grad[i] += d;
          for (let k = 0; k < I; k++) this.wxh.grad[i * I + k] += d * x[(t - 1) * I + k];
          for (let j = 0; j < H; j++) this.whh.grad[i * H + j] += d * states[prev + j];
        }
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let i = 0; i < H; i++) s += whh[i * H + j] * da[i];
          dh[j] = s;
        }
      }
    }
    return total / B;
  }

  /** Plain SGD: θ ← θ − lr·∇θ. */
  step(lr: number): void {
    for (const p of this.params) for (let i = 0; i < p.data.length; i++) p.data[i] -= lr * p.grad[i];
  }
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997): each step carries a value in [0, 1)
 * and a marker; exactly two steps are marked (one in each half); the target is the sum of
 * the two marked values. Always answering 1.0 scores MSE = Var(u₁ + u₂) = 1/6 ≈ 0.167.
 */
export function addingBatch(rng: Random, size: number, length: number): Batch {
  const inputs: Float64Array[] = [];
  const targets = new Float64Array(size);
  const half = Math.max(1, Math.floor(length / 2));
  for (let b = 0; b < size; b++) {
    const x = new Float64Array(length * 2);
    for (let t = 0; t < length; t++) x[t * 2] = rng.next();
    const first = rng.int(half);
    const second = half + rng.int(length - half);
    x[first * 2 + 1] = 1;
    x[second * 2 + 1] = 1;
    targets[b] = x[first * 2] + x[second * 2];
    inputs.push(x);
  }
  return { inputs, targets, length };
}

export const TRIVIAL_MSE = 1 / 6;
