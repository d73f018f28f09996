#!/usr/bin/env node
// npm run bench:tfjs — gradclip/tfjs against clipping written with tfjs ops, on tfjs's cpu and wasm
// backends in Node, in the same run: 21M float32 parameters in 8 tensors, every step clipped. A
// benchmark, not a test (medians of repeated calls; ratios side by side).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

// webgl in Chromium (SwiftShader: software, so only the ratio means anything), unless --no-chromium.
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!process.argv.includes('--no-chromium') && existsSync(chromiumPath)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const work = join(root, 'build', 'bench-tfjs');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'tsconfig.json'), '{}');
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(root, 'scripts', 'bench-tfjs-page.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(work, 'page.js'),
    tsconfig: join(work, 'tsconfig.json'),
    logLevel: 'error',
  });
  const bundle = readFileSync(join(work, 'page.js'), 'utf8');
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => globalThis.__bench !== undefined, null, { timeout: 600_000 });
    const r = await page.evaluate(() => globalThis.__bench);
    if (r.error) console.log(`\nwebgl (Chromium ${browser.version()}): failed: ${r.error.split('\n')[0]}`);
    else
      console.log(
        `\nwebgl (Chromium ${browser.version()}, SwiftShader), 21.0M in 8, median of 7: tfjs ops ${r.ops.toFixed(1)} ms, ` +
          `gradclip/tfjs ${r.ours.toFixed(1)} ms (${(r.ops / r.ours).toFixed(2)}×, transport '${r.transport}'); read back per call: ` +
          `the ${SHAPES.length} per-tensor partials (${r.partialReads} reads over ${8} calls), ${r.otherReads} other reads`,
      );
  } finally {
    await browser.close();
    server.close();
  }
}
