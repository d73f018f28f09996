// The adding problem (Hochreiter & Schmidhuber) with a SimpleRNN in TensorFlow.js, trained with plain
// SGD at a large learning rate: once unclipped, once with withGradClipping from gradclip/tfjs.
// Run: node examples/tfjs-rnn.mjs   (needs @tensorflow/tfjs installed next to gradclip)
import * as tf from '@tensorflow/tfjs';
import { withGradClipping } from 'gradclip/tfjs';

await tf.setBackend('cpu');

/** n sequences of T steps: a value channel and a marker channel; the target is the sum of the two marked values. */
function addingProblem(n, T, seed) {
  let s = seed >>> 0;
  const random = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const x = new Float32Array(n * T * 2);
  const y = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    const i = Math.floor(random() * (T / 2));
    const j = Math.floor(T / 2 + random() * (T / 2));
    for (let t = 0; t < T; t++) {
      const v = random();
      x[(b * T + t) * 2] = v;
      x[(b * T + t) * 2 + 1] = t === i || t === j ? 1 : 0;
      if (t === i || t === j) y[b] += v;
    }
  }
  return { xs: tf.tensor3d(x, [n, T, 2]), ys: tf.tensor2d(y, [n, 1]) };
}

function model() {
  return tf.sequential({
    layers: [
      tf.layers.simpleRNN({
        units: 32,
        inputShape: [20, 2],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: 2 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

const { xs, ys } = addingProblem(1024, 20, 7);
for (const clip of [false, true]) {
  const optimizer = clip ? withGradClipping(tf.train.sgd(0.2), { maxNorm: 1 }) : tf.train.sgd(0.2);
  const m = model();
  m.compile({ optimizer, loss: 'meanSquaredError' });
  const { history } = await m.fit(xs, ys, { epochs: 8, batchSize: 32, verbose: 0, shuffle: false });
  const losses = history.loss.map((l) =>
    Number.isFinite(l) && l < 1e6 ? l.toFixed(3) : String(l.toExponential?.(1) ?? l),
  );
  console.log(
    `${clip ? 'withGradClipping(sgd, { maxNorm: 1 })' : 'plain sgd                            '}  loss per epoch: ${losses.join(' ')}`,
  );
  if (clip) {
    const s = optimizer.gradclip;
    console.log(
      `  ${s.clippedSteps} of ${s.steps} steps clipped, last norm ${s.lastTotalNorm.toFixed(3)}, transport '${s.transport}'`,
    );
  }
  m.dispose();
}
console.log('(the trivial predictor, always 1.0, has MSE 1/6 ≈ 0.167)');
