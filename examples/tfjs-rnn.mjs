// The adding problem (Hochreiter & Schmidhuber) with a SimpleRNN in TensorFlow.js, trained with plain
// SGD at a large learning rate: once unclipped, once with withGradClipping from gradclip/tfjs.
// Run: node examples/tfjs-rnn.mjs   (needs @tensorflow/tfjs installed next to gradclip)
import * as tf from '@tensorflow/tfjs';
import { withGradClipping } from 'gradclip/tfjs';
import { addingProblem, simpleRnn } from './adding-rnn.mjs';

await tf.setBackend('cpu');

const { xs, ys } = addingProblem(1024, 20, 7);
for (const clip of [false, true]) {
  const optimizer = clip ? withGradClipping(tf.train.sgd(0.2), { maxNorm: 1 }) : tf.train.sgd(0.2);
  const m = simpleRnn();
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
