// The browser half of npm run bench:tfjs: tfjs's webgl backend in Chromium (SwiftShader here, a
// software GPU: the ratio matters, not the times). Bundled and served by scripts/bench-tfjs.mjs.
import * as tf from '@tensorflow/tfjs';
import { clipGradNorm } from 'gradclip/tfjs';

const SHAPES = [[2048, 4096], [4096, 2048], [1024, 4096], [4096], [2048], [1024], [4096], [1]];

/** Waits for the device: reads one element of the last output (the GPU runs its queue in order). */
function settle(t) {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  one.dataSync();
  one.dispose();
}

function median(f, reps) {
  f();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const a = performance.now();
    f();
    t.push(performance.now() - a);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

async function main() {
  await tf.setBackend('webgl');
  await tf.ready();
  const grads = SHAPES.map((s, i) => tf.randomUniform(s, -1, 1, 'float32', i + 1));
  let norm = clipGradNorm(grads, Number.POSITIVE_INFINITY).totalNorm;
  const reps = 7;
  const reads = [];
  const ops = median(() => {
    const out = tf.tidy(() => {
      const total = tf.norm(tf.stack(grads.map((g) => tf.norm(g))));
      const coef = tf.minimum(1, tf.div(norm * 0.9999, tf.add(total, 1e-6)));
      return [total, ...grads.map((g) => tf.mul(g, coef))];
    });
    out[0].dataSync();
    settle(out[out.length - 1]);
    tf.dispose(out);
  }, reps);
  const proto = Object.getPrototypeOf(grads[0]);
  const dataSync = proto.dataSync;
  proto.dataSync = function (...a) {
    reads.push(this.size);
    return dataSync.apply(this, a);
  };
  let transport = '';
  const ours = median(() => {
    const r = clipGradNorm(grads, norm * 0.9999);
    transport = r.transport;
    settle(r.grads[r.grads.length - 1]);
    tf.dispose(r.grads);
  }, reps);
  proto.dataSync = dataSync;
  norm = 0;
  tf.dispose(grads);
  const partialReads = reads.filter((n) => n === SHAPES.length).length;
  return { ops, ours, transport, partialReads, otherReads: reads.filter((n) => n !== SHAPES.length && n !== 1).length };
}

main().then(
  (r) => {
    globalThis.__bench = r;
  },
  (err) => {
    globalThis.__bench = { error: String(err?.stack ?? err) };
  },
);
