// torch's clipping loop, line for line, in JavaScript:
//
//   optimizer = optim.SGD(model.parameters(), lr=1.0)
//   torch_utils.clip_grad_norm_(model.parameters(), 5.0)
//   optimizer.step()
//
// on a small linear model (y = x·w + b, squared error) whose gradients are written by hand. Run it with
// `node examples/torch-loop.mjs` (after `npm run build`, or from an installed package as 'gradclip').
import { clip_grad_norm_, optim } from 'gradclip';

const features = 8;
const model = {
  w: { data: new Float32Array(features), grad: new Float32Array(features) },
  b: { data: new Float32Array(1), grad: new Float32Array(1) },
};
const parameters = () => [model.w, model.b];

// Data from a fixed linear rule with a few outliers (which make the gradient explode now and then).
let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed / 2 ** 32) * 2 - 1;
};
const truth = Float32Array.from({ length: features }, random);
const batch = () =>
  Array.from({ length: 32 }, (_, i) => {
    const x = Float32Array.from({ length: features }, random);
    const y = x.reduce((s, v, k) => s + v * truth[k], 0.5) * (i === 0 && random() > 0.8 ? 50 : 1);
    return { x, y };
  });

function lossAndGrad(samples) {
  model.w.grad.fill(0);
  model.b.grad.fill(0);
  let loss = 0;
  for (const { x, y } of samples) {
    const err = x.reduce((s, v, k) => s + v * model.w.data[k], model.b.data[0]) - y;
    loss += (err * err) / samples.length;
    for (let k = 0; k < features; k++) model.w.grad[k] += (2 * err * x[k]) / samples.length;
    model.b.grad[0] += (2 * err) / samples.length;
  }
  return loss;
}

const optimizer = new optim.SGD(parameters(), { lr: 0.05 });
for (let step = 1; step <= 300; step++) {
  optimizer.zero_grad();
  const loss = lossAndGrad(batch());
  const norm = clip_grad_norm_(parameters(), 5.0);
  optimizer.step();
  if (step % 50 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}, grad norm ${norm.toFixed(2)}`);
}

// The same loop with the clip fused into the step: one call, and the gradients are left as they were.
const fused = new optim.SGD(parameters(), { lr: 0.05, max_grad_norm: 5.0 });
lossAndGrad(batch());
console.log(`fused step: grad norm before clipping ${fused.step().toFixed(2)}`);
