import * as tf from '@tensorflow/tfjs';
import { withGradClipping } from 'gradclip/tfjs';
await tf.setBackend('cpu');
function adding(n, T, seed) {
  let s = seed >>> 0; const r = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const x = new Float32Array(n * T * 2), y = new Float32Array(n);
  for (let b = 0; b < n; b++) { const i = Math.floor(r() * (T / 2)), j = Math.floor(T / 2 + r() * (T / 2)); let sum = 0;
    for (let t = 0; t < T; t++) { const v = r(); x[(b * T + t) * 2] = v; const m = t === i || t === j ? 1 : 0; x[(b * T + t) * 2 + 1] = m; if (m) sum += v; } y[b] = sum; }
  return { xs: tf.tensor3d(x, [n, T, 2]), ys: tf.tensor2d(y, [n, 1]) };
}
async function run(clip) {
  tf.util.seedrandom?.('1');
  const model = tf.sequential({ layers: [tf.layers.simpleRNN({ units: 32, inputShape: [20, 2], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.orthogonal({ gain: 1.5, seed: 2 }) }), tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
  const opt = tf.train.sgd(0.2);
  model.compile({ optimizer: clip ? withGradClipping(opt, { maxNorm: 1 }) : opt, loss: 'meanSquaredError' });
  const { xs, ys } = adding(1024, 20, 7);
  const t0 = performance.now();
  const h = await model.fit(xs, ys, { epochs: 10, batchSize: 32, verbose: 0, shuffle: false });
  console.log(clip ? 'clipped' : 'plain', h.history.loss.map((v) => v.toFixed(3)).join(' '), ((performance.now() - t0) / 1000).toFixed(1) + 's', clip ? opt.gradclip : '');
}
await run(false); await run(true);
