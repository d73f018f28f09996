#!/usr/bin/env node
// npm run bench:tfjs — gradclip/tfjs against clipping written with tfjs ops, on tfjs's cpu and wasm
// backends in Node, in the same run: 21M float32 parameters in 8 tensors, every step clipped. A
// benchmark, not a test (medians of repeated calls; ratios side by side).
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { get_total_norm } from 'gradclip';
import { clipGradNorm } from 'gradclip/tfjs';

const SHAPES = [[2048, 4096], [4096, 2048], [1024, 4096], [4096], [2048], [1024], [4096], [1]];
const minMs = Number(process.env.BENCH_MS ?? 1500);

function median(f) {
  f();
  const t = [];
  const start = performance.now();
  while (t.length < 5 || (performance.now() - start < minMs && t.length < 200)) {
    const a = performance.now();
    f();
    t.push(performance.now() - a);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

/** What a tfjs user writes: per-tensor tf.norm, their norm, torch's coefficient, one tf.mul per tensor. */
function tfjsOpsClip(grads, maxNorm) {
  const out = tf.tidy(() => {
    const total = tf.norm(tf.stack(grads.map((g) => tf.norm(g))));
    const coef = tf.minimum(1, tf.div(maxNorm, tf.add(total, 1e-6)));
    return [total, ...grads.map((g) => tf.mul(g, coef))];
  });
  out[0].dataSync(); // the norm is read back, as clip_grad_norm_ returns it
  out[1].dataSync(); // and the work is finished
  tf.dispose(out);
}

const rows = [];
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  let seed = 1;
  const grads = SHAPES.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
      v[i] = seed / 2 ** 31;
    }
    return tf.tensor(v, shape);
  });
  const params = SHAPES.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  let norm = clipGradNorm(grads, Number.POSITIVE_INFINITY).totalNorm;
  // Every step clips: max_norm just under the current norm (the gradients shrink by 1e-4 per step).
  const ours = median(() => {
    const r = clipGradNorm(grads, norm * (1 - 1e-4));
    if (!r.clipped) throw new Error('expected a clip');
    norm = r.totalNorm * (1 - 1e-4);
  });
  const copy = median(() => {
    const r = clipGradNorm(grads, norm * (1 - 1e-4), { inPlace: false });
    tf.dispose(r.grads);
  });
  const ops = median(() => tfjsOpsClip(grads, norm * (1 - 1e-4)));
  const noClip = median(() => clipGradNorm(grads, Number.POSITIVE_INFINITY));
  // One read pass over the same memory: gradclip's norm over the raw storage / heap views.
  const views = grads.map((t) =>
    backend === 'cpu'
      ? tf.backend().data.get(t.dataId).values
      : new Float32Array(tf.backend().wasm.HEAPU8.buffer, tf.backend().dataIdMap.get(t.dataId).memoryOffset, t.size),
  );
  const read = median(() => get_total_norm(views));
  const transport = clipGradNorm(grads, Number.POSITIVE_INFINITY).transport;
  rows.push([backend, `${(params / 1e6).toFixed(1)}M in ${grads.length}`, transport, ops, ours, copy, noClip, read]);
  tf.dispose(grads);
}

const f = (x) => x.toFixed(2).padStart(9);
console.log(`bench:tfjs — tfjs ${tf.version.tfjs}, median ms per call, every step clipped\n`);
console.log(
  'tfjs backend  params         transport   tfjs ops  gradclip  speed-up  copy path  coef = 1  one read pass  coef 1 / read',
);
for (const [b, p, t, ops, ours, copy, noClip, read] of rows) {
  console.log(
    `${b.padEnd(12)}  ${p.padEnd(13)}  ${t.padEnd(10)} ${f(ops)} ${f(ours)} ${`${(ops / ours).toFixed(1)}×`.padStart(9)} ${f(copy)}  ${f(noClip)} ${f(read).padStart(14)} ${(noClip / read).toFixed(2).padStart(14)}`,
  );
}
console.log(
  '\ntfjs ops: per-tensor tf.norm, tf.norm of those, torch\'s coefficient with tf ops, one tf.mul per tensor (what a\n' +
    'tfjs user writes). gradclip: clipGradNorm (in place). copy path: inPlace: false (new tensors). coef = 1:\n' +
    'clipGradNorm with nothing to clip. one read pass: gradclip\'s norm over the same memory without tfjs.',
);
