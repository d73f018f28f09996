/**
 * A training loop in the torch style: zero grads → backward → clip_grad_norm_ → SGD step.
 * Run it with `npx tsx examples/train-loop.ts` (the tests run it too).
 *
 * The model is a tiny linear regression y = w·x + b written by hand; each parameter is a
 * { data, grad } pair, which is all gradclip needs (the same shape as a torch Parameter).
 */
import { clip_grad_norm_, getBackend } from 'gradclip';

interface Param {
  data: Float32Array;
  grad: Float32Array;
}

const param = (n: number): Param => ({ data: new Float32Array(n), grad: new Float32Array(n) });
const w = param(3);
const b = param(1);
const parameters = [w, b];

// Data: y = 2·x0 − 3·x1 + 0.5·x2 + 1, with one wild outlier batch that would wreck an unclipped step.
const trueW = [2, -3, 0.5];
let seed = 42;
const rand = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};

export function trainLoop(steps = 300, lr = 0.1, maxNorm = 1): { loss: number; clippedSteps: number } {
  let loss = 0;
  let clippedSteps = 0;
  for (let step = 0; step < steps; step++) {
    const x = Array.from({ length: 16 }, () => [rand(), rand(), rand()]);
    const outlier = step === 50 ? 1e4 : 1;
    const y = x.map((xi) => (xi[0] * trueW[0] + xi[1] * trueW[1] + xi[2] * trueW[2] + 1) * outlier);

    // optimizer.zero_grad()
    for (const p of parameters) p.grad.fill(0);
    // loss.backward(): mean squared error and its gradient
    loss = 0;
    for (let i = 0; i < x.length; i++) {
      const pred = w.data[0] * x[i][0] + w.data[1] * x[i][1] + w.data[2] * x[i][2] + b.data[0];
      const err = pred - y[i];
      loss += (err * err) / x.length;
      for (let k = 0; k < 3; k++) w.grad[k] += (2 * err * x[i][k]) / x.length;
      b.grad[0] += (2 * err) / x.length;
    }
    // torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    const norm = clip_grad_norm_(parameters, maxNorm);
    if (norm > maxNorm) clippedSteps++;
    // optimizer.step()
    for (const p of parameters) for (let k = 0; k < p.data.length; k++) p.data[k] -= lr * p.grad[k];
  }
  return { loss, clippedSteps };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { loss, clippedSteps } = trainLoop();
  console.log(`backend ${getBackend().name}: final loss ${loss.toExponential(2)}, ${clippedSteps} steps clipped`);
  console.log(`learned w = [${Array.from(w.data, (v) => v.toFixed(3)).join(', ')}], b = ${b.data[0].toFixed(3)}`);
}

export { b, w };
