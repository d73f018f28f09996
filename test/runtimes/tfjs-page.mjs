// gradclip/tfjs inside Chromium, on tfjs's cpu, wasm and webgl backends (webgl on SwiftShader here:
// correctness, not speed). Bundled by scripts/test-runtimes.mjs; reports to globalThis.__tfjsResult.
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { clip_grad_norm_, getBackend } from 'gradclip';
import { clipGradNorm, clipGradNormAsync, withGradClipping } from 'gradclip/tfjs';

const hex = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer), (x) => x.toString(16)).join('');
const SHAPES = [[300, 70], [70], [1], [65537], [3, 4, 5]];

function tensors(seed) {
  let s = seed;
  return SHAPES.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) | 0;
      v[i] = (s / 2 ** 31) * 0.5;
    }
    return tf.tensor(v, shape);
  });
}

async function onBackend(name) {
  const failures = [];
  const check = (ok, what) => {
    if (!ok) failures.push(`${name}: ${what}`);
  };
  if (!(await tf.setBackend(name))) return { name, ran: false, failures: [] };
  await tf.ready();
  const device = name === 'webgl' || name === 'webgpu';
  const ts = tensors(11);
  const arrays = ts.map((t) => Float32Array.from(t.dataSync()));
  const expected = clip_grad_norm_(arrays, 0.01);
  // Count what is read back from the device: only the per-tensor partials, a tensor of 5 numbers.
  const reads = [];
  const proto = Object.getPrototypeOf(ts[0]);
  const { dataSync, data } = proto;
  proto.dataSync = function (...a) {
    reads.push(this.size);
    return dataSync.apply(this, a);
  };
  proto.data = function (...a) {
    reads.push(this.size);
    return data.apply(this, a);
  };
  let r;
  let ra;
  const b = tensors(11); // (not clones: a clone shares its storage, which is then never written in place)
  try {
    r = clipGradNorm(ts, 0.01);
    ra = await clipGradNormAsync(b, 0.01);
  } finally {
    proto.dataSync = dataSync;
    proto.data = data;
  }
  const transport = r.transport;
  check(
    transport === (name === 'cpu' ? 'in-place' : name === 'wasm' ? 'wasm-heap' : 'device'),
    `transport ${transport}`,
  );
  if (device) {
    check(
      reads.length === 2 && reads.every((n) => n === SHAPES.length),
      `read back ${JSON.stringify(reads)} (expected two reads of ${SHAPES.length} partials)`,
    );
    check(Math.abs(r.totalNorm - expected) <= 1e-5 * expected, `norm ${r.totalNorm} vs ${expected}`);
    check(ra.totalNorm === r.totalNorm, 'async norm differs from sync');
    let worst = 0;
    r.grads.forEach((t, i) => {
      const v = t.dataSync();
      for (let k = 0; k < v.length; k++)
        worst = Math.max(worst, Math.abs(v[k] - arrays[i][k]) / (Math.abs(arrays[i][k]) + 1e-30));
    });
    check(worst <= 3e-6, `clipped values differ from clip_grad_norm_ by ${worst} (relative)`);
    tf.dispose(r.grads);
    tf.dispose(ra.grads);
  } else {
    check(reads.length === 0, `read back ${reads.length} tensors (expected none)`);
    check(r.totalNorm === expected && ra.totalNorm === expected, `norm ${r.totalNorm} !== ${expected} (bits)`);
    check(
      r.grads.every((t, i) => t === ts[i] && hex(t.dataSync()) === hex(arrays[i])),
      'clipped bits differ',
    );
  }
  tf.dispose([...ts, ...b]);
  // No leaks over 200 steps of minimize through withGradClipping.
  const w = tf.variable(tf.randomNormal([16, 16], 0, 1, 'float32', 3));
  const x = tf.randomNormal([8, 16], 0, 1, 'float32', 4);
  const opt = withGradClipping(tf.train.sgd(0.01), { maxNorm: 0.5 });
  opt.minimize(() => tf.sum(tf.square(tf.matMul(x, w))));
  const count = tf.memory().numTensors;
  for (let i = 0; i < 200; i++) opt.minimize(() => tf.sum(tf.square(tf.matMul(x, w))));
  const leaked = tf.memory().numTensors - count;
  check(leaked === 0, `${leaked} tensors leaked over 200 steps`);
  check(opt.gradclip.clippedSteps > 0, 'never clipped');
  tf.dispose([w, x]);
  opt.dispose();
  return { name, ran: true, transport, norm: r.totalNorm, leaked, failures };
}

async function main() {
  setWasmPaths('/tfjs-wasm/');
  const results = [];
  for (const name of ['cpu', 'wasm', 'webgl']) {
    try {
      results.push(await onBackend(name));
    } catch (err) {
      results.push({ name, ran: false, failures: [`${name}: ${err?.stack ?? err}`] });
    }
  }
  // WebGPU is tried, not required: whether it runs depends on the browser build and its flags.
  let webgpu;
  try {
    const adapter = typeof navigator !== 'undefined' && navigator.gpu ? await navigator.gpu.requestAdapter() : null;
    webgpu = adapter
      ? await onBackend('webgpu')
      : { name: 'webgpu', ran: false, why: 'no WebGPU adapter', failures: [] };
  } catch (err) {
    webgpu = { name: 'webgpu', ran: false, why: String(err?.message ?? err).slice(0, 200), failures: [] };
  }
  return { gradclipBackend: getBackend(), results, webgpu };
}

main().then(
  (r) => {
    globalThis.__tfjsResult = r;
  },
  (err) => {
    globalThis.__tfjsResult = { results: [], failures: [String(err?.stack ?? err)] };
  },
);
