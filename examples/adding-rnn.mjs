// The adding problem (Hochreiter & Schmidhuber) and a SimpleRNN for it in TensorFlow.js: the data and
// model of examples/tfjs-rnn.mjs (and of gradclip's tfjs tests).
import * as tf from '@tensorflow/tfjs';

/** n sequences of T steps: a value channel and a marker channel; the target is the sum of the two marked values. */
export function addingProblem(n, T, seed) {
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

/** SimpleRNN(32) → Dense(1), seeded, with a recurrent matrix of gain 1.5: its gradients can explode. */
export function simpleRnn(T = 20) {
  return tf.sequential({
    layers: [
      tf.layers.simpleRNN({
        units: 32,
        inputShape: [T, 2],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: 2 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}
