#!/usr/bin/env node
// Hostile and long-running use of gradclip, one scenario per process:
//   node --expose-gc test/adversarial/scenarios.mjs <scenario> [backend]
// prints `ok: <what was seen>` and exits 0, or prints what went wrong and exits 1; a crash shows
// as a signal or an abort in the parent (test/adversarial.test.ts). GRADCLIP_ENTRY points at the
// build to attack (default: this checkout's dist/index.js).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { rng } from '../support/rng.mjs';

const ENTRY = process.env.GRADCLIP_ENTRY ?? new URL('../../dist/index.js', import.meta.url).href;
const [name, backendArg] = process.argv.slice(2);
const gc = globalThis.gc ?? (() => {});

function fail(message) {
  console.log(`FAIL: ${message}`);
  process.exit(1);
}
function ok(message) {
  console.log(`ok: ${message}`);
  process.exit(0);
}
async function load(backend = backendArg) {
  const g = await import(ENTRY);
  if (backend) g.setBackend(backend);
  return g;
}
function threadsNow() {
  return readdirSync('/proc/self/task').length;
}
function rssMB() {
  return process.memoryUsage().rss / 2 ** 20;
}
function transfer(buffer) {
  return structuredClone(buffer, { transfer: [buffer] });
}
function errorOf(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
function describeError(e) {
  return e === undefined ? 'no error' : `${e.constructor?.name}: ${String(e.message).slice(0, 160)}`;
}

const scenarios = {
  // Issue 8.1: an own `length` keeps reporting the old length after the buffer is transferred.
  async 'cache-own-length'() {
    const g = await load();
    const a = new Float32Array(1 << 22).fill(1);
    Object.defineProperty(a, 'length', { value: a.length });
    const list = [a];
    g.clip_grad_norm_(list, 1);
    const moved = new Float32Array(transfer(a.buffer)).fill(7);
    gc();
    const e = errorOf(() => g.clip_grad_norm_(list, 1));
    if (!(e instanceof TypeError) || !/detached/.test(e.message))
      fail(`expected a TypeError about a detached buffer, got ${describeError(e)}`);
    if (moved.some((x) => x !== 7)) fail('the new owner of the buffer was written');
    ok(describeError(e));
  },

  // Issue 8.1: a subclass whose `length` getter lies.
  async 'cache-subclass-length'() {
    const g = await load();
    const n = 1 << 22;
    class Lying extends Float32Array {
      get length() {
        return n;
      }
    }
    const a = new Lying(n).fill(1);
    const list = [a];
    g.clip_grad_norm_(list, 1);
    const moved = new Float32Array(transfer(a.buffer)).fill(7);
    gc();
    const e = errorOf(() => g.clip_grad_norm_(list, 1));
    if (!(e instanceof TypeError)) fail(`expected a TypeError, got ${describeError(e)}`);
    if (moved.some((x) => x !== 7)) fail('the new owner of the buffer was written');
    ok(describeError(e));
  },

  // Issue 8.1: another item's getter detaches an array that was already read (and cached).
  async 'cache-getter-detaches-other'() {
    const g = await load();
    const a = new Float32Array(1 << 22).fill(1);
    const b = new Float32Array(16).fill(2);
    let armed = false;
    let moved;
    const params = [
      { grad: a },
      {
        get grad() {
          if (armed) {
            moved = new Float32Array(transfer(a.buffer)).fill(7);
            gc();
          }
          return b;
        },
      },
    ];
    g.clip_grad_norm_(params, 1e9);
    armed = true;
    const bBefore = b.slice();
    const e = errorOf(() => g.clip_grad_norm_(params, 1e-3));
    if (!(e instanceof TypeError) || !/^parameters\[0\]\.grad: .*detached/.test(e.message)) {
      fail(`expected parameters[0].grad: ... detached, got ${describeError(e)}`);
    }
    if (moved.some((x) => x !== 7)) fail('the new owner of the buffer was written');
    if (b.some((x, i) => x !== bBefore[i])) fail('the other gradient was written by a call that threw');
    ok(describeError(e));
  },

  // Issue 8.2: async on a resizable buffer, then resize; async then transfer + gc; postMessage to a worker.
  async 'async-resizable'() {
    const g = await load();
    const ab = new ArrayBuffer(1 << 26, { maxByteLength: 1 << 27 });
    const a = new Float32Array(ab).fill(1);
    const p = g.getTotalNormAsync([a]);
    ab.resize(4096);
    const e = await p.then(
      () => undefined,
      (err) => err,
    );
    if (!(e instanceof TypeError) || !/resizable/.test(e.message))
      fail(`expected a TypeError about resizable, got ${describeError(e)}`);
    ok(describeError(e));
  },

  async 'async-transfer-gc'() {
    const g = await load();
    const a = new Float32Array(1 << 24).fill(3);
    const p = g.clipGradValueAsync([a], 0.5);
    let how;
    try {
      const moved = transfer(a.buffer);
      how = moved.byteLength > 0 && a.length > 0 ? 'structuredClone copied the buffer' : 'the buffer was detached';
    } catch (err) {
      how = `transfer refused (${err.name})`;
    }
    gc();
    await p;
    if (a.length !== 1 << 24) fail(`the array was detached while the work was in flight (${how})`);
    if (a.some((x) => x !== 0.5)) fail('not every element was clipped');
    ok(`${how}; all ${a.length} elements clipped`);
  },

  async 'async-postmessage'() {
    const g = await load();
    const n = 1 << 24;
    const a = new Float32Array(n).fill(1);
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (buf) => {
         const v = new Float32Array(buf);
         const first = Float32Array.from(v.subarray(0, 1024));
         const sum0 = v.reduce((s, x) => s + x, 0);
         setTimeout(() => {
           const sum1 = v.reduce((s, x) => s + x, 0);
           parentPort.postMessage({ length: v.length, changed: sum0 !== sum1 || v.subarray(0, 1024).some((x, i) => x !== first[i]) });
         }, 300);
       });`,
      { eval: true },
    );
    const p = g.clipGradNormAsync([a], 1e-3);
    worker.postMessage(a.buffer, [a.buffer]);
    const seen = await new Promise((resolve) => worker.once('message', resolve));
    await p;
    await worker.terminate();
    if (seen.changed) fail('the worker saw its buffer change after it was transferred to it');
    if (a.length !== n) fail('the main thread lost its array while the work was in flight');
    if (!(a[0] < 1)) fail('the main thread array was not clipped');
    ok(`worker got ${seen.length} elements that did not change; main array kept and clipped`);
  },

  // Issue 8.3 and 15.12: terminating workers that use gradclip (async in flight, sync clips, import).
  async 'worker-terminate'() {
    const mode = backendArg ?? 'async';
    const rounds = { async: 40, sync: 60, load: 150, exit: 40, mixed: 40 }[mode];
    const r = rng(7);
    const code = `const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.entry).then(async (g) => {
        parentPort.postMessage('loaded');
        if (workerData.mode === 'load') return;
        const list = [new Float32Array(1 << 22).fill(1), new Float64Array(1000).fill(2)];
        if (workerData.mode === 'mixed') {
          // Every async kind in turn: a fused AdamW step, 16-bit clips with per-tensor norms, {min, max}.
          const bits = new Uint16Array(1 << 21);
          const params = [{ data: new Float32Array(1 << 21).fill(1), grad: list[0] }];
          const opt = new g.AdamW(params, { lr: 1e-3, max_grad_norm: 1 });
          const per = new Float64Array(2);
          for (let k = 0; ; k++) {
            bits.fill(0x3c00);
            if (k % 4 === 0) await opt.stepAsync();
            else if (k % 4 === 1) await g.clipGradNormAsync([g.float16(bits), list[0]], 1e-3, { perTensorNorms: per });
            else if (k % 4 === 2) await g.getNormsAsync([g.bfloat16(bits), list[1]]);
            else await g.clipGradValueAsync([g.float16(bits), list[0]], { min: -0.5, max: 0.5 });
          }
        }
        for (let k = 0; ; k++) {
          if (workerData.mode === 'async') await g.clipGradNormAsync(list, 1e-3);
          else g.clip_grad_norm_(list, 1e-3);
          if (workerData.mode === 'exit' && k === 2) process.exit(0);
        }
      });`;
    const start = () => {
      const w = new Worker(code, { eval: true, workerData: { entry: ENTRY, mode } });
      w.on('error', () => {});
      const loaded = new Promise((res) => w.once('message', res));
      return { w, loaded };
    };
    // How long a worker takes to load gradclip: terminations in 'load' mode land all over that span.
    const t0 = performance.now();
    const probe = start();
    await probe.loaded;
    const loadMs = performance.now() - t0;
    await probe.w.terminate();
    for (let i = 0; i < rounds; i++) {
      const { w, loaded } = start();
      if (mode === 'load') await new Promise((res) => setTimeout(res, r() * loadMs * 1.5));
      else {
        await loaded;
        await new Promise((res) => setTimeout(res, r() * 12));
      }
      await w.terminate();
    }
    ok(`${rounds} workers terminated (${mode}; loading gradclip takes a worker ${loadMs.toFixed(0)} ms)`);
  },

  // Issue 8.4: only workers load gradclip; Node unloads the addon after each; threads must not leak.
  async 'worker-only-unload'() {
    const before = threadsNow();
    const counts = [];
    for (let cycle = 0; cycle < 12; cycle++) {
      const w = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         import(workerData.entry).then((g) => {
           g.setNumThreads(16);
           const a = new Float32Array(1 << 22).fill(1);
           const t = g.clip_grad_norm_([a], 1);
           parentPort.postMessage({ t, backend: g.getBackend().name });
         });`,
        { eval: true, workerData: { entry: ENTRY } },
      );
      const msg = await new Promise((res, rej) => {
        w.once('message', res);
        w.once('error', rej);
      });
      if (msg.t !== 2048) fail(`wrong norm in a worker: ${msg.t}`);
      await new Promise((res) => w.once('exit', res));
      await new Promise((res) => setTimeout(res, 20));
      counts.push(threadsNow());
    }
    const after = counts.at(-1);
    if (after > before + 2) fail(`threads grew from ${before} to ${after} over 12 worker cycles: ${counts.join(' ')}`);
    ok(`threads ${before} before, ${counts.join(' ')} after each of 12 worker cycles (16 pool threads each)`);
  },

  // Issue 8.5: the thread cap, and the pool shrinking when the count is lowered.
  async 'thread-cap'() {
    const g = await load('native');
    const e = errorOf(() => g.setNumThreads(1e9));
    if (!(e instanceof RangeError)) fail(`setNumThreads(1e9): expected a RangeError, got ${describeError(e)}`);
    const base = threadsNow();
    g.setNumThreads(64);
    const list = Array.from({ length: 2000 }, () => new Float32Array(2000).fill(1));
    const t = g.clip_grad_norm_(list, 1);
    const peak = threadsNow();
    g.setNumThreads(2);
    g.clip_grad_norm_(list, 1);
    const after = threadsNow();
    if (Math.abs(t - 2000) > 1e-9) fail(`wrong norm ${t}`);
    if (peak - base > 63) fail(`started ${peak - base} threads for 64`);
    if (after - base > 1) fail(`setNumThreads(2) left ${after - base} extra threads`);
    ok(`setNumThreads(1e9): ${describeError(e)}; threads ${base} → ${peak} at 64 → ${after} at 2`);
  },

  // Issue 8.5: thread creation fails (address space limit): the clip runs on fewer threads.
  async 'thread-failure'() {
    // AddressSanitizer reserves terabytes of address space for its shadow: no ulimit -v fits it.
    if (process.env.GRADCLIP_ASAN) ok('skipped under AddressSanitizer (no ulimit -v leaves it room), no abort');
    if (backendArg !== 'child') {
      // Re-run under an address-space limit small enough that 200 thread stacks cannot be mapped.
      const r = spawnSync(
        'sh',
        ['-c', `ulimit -v 1600000 && exec "${process.execPath}" "${process.argv[1]}" thread-failure child`],
        { encoding: 'utf8', env: { ...process.env, GRADCLIP_BACKEND: 'native' } },
      );
      const out = `${r.stdout}${r.stderr}`.trim();
      if (r.status !== 0) fail(`child exited ${r.status ?? r.signal}: ${out.slice(-400)}`);
      ok(out.replace(/^ok: /, ''));
    }
    const g = await load('native');
    g.setNumThreads(256);
    const a = new Float32Array(1 << 24).fill(1);
    const t = g.clip_grad_norm_([a], 1);
    if (t !== 4096) fail(`wrong norm ${t}`);
    const threads = threadsNow();
    ok(`256 threads asked under ulimit -v: ${threads} threads started, norm ${t}, no abort`);
  },

  // Issue 8.6: memory stays flat in a synchronous loop that never yields.
  // optim.*.stepAsync while user code tries to move every array the step uses (parameter, gradient,
  // and the optimizer's own state, which optimizer.state hands out): nothing moves, the result is
  // step()'s bits.
  async 'optim-async-transfer'() {
    const g = await load();
    const n = 1 << 22;
    const make = () => {
      const r = rng(5);
      const data = new Float32Array(n);
      const grad = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        data[i] = r() - 0.5;
        grad[i] = r() - 0.5;
      }
      return [{ data, grad }];
    };
    const ref = make();
    const refOpt = new g.AdamW(ref, { lr: 1e-2, max_grad_norm: 1 });
    refOpt.step();
    refOpt.step();
    const ps = make();
    const opt = new g.AdamW(ps, { lr: 1e-2, max_grad_norm: 1 });
    await opt.stepAsync();
    const st = opt.state.get(ps[0]);
    const p = opt.stepAsync();
    const hows = [];
    for (const a of [ps[0].data, ps[0].grad, st.exp_avg, st.exp_avg_sq]) {
      try {
        const moved = transfer(a.buffer);
        hows.push(moved.byteLength > 0 && a.length === n ? 'copied' : 'detached');
      } catch (err) {
        hows.push(`refused (${err.name})`);
      }
    }
    gc();
    await p;
    if (hows.includes('detached')) fail(`an array was detached while the step was in flight: ${hows.join(', ')}`);
    const same = Buffer.from(ps[0].data.buffer).equals(Buffer.from(ref[0].data.buffer));
    if (!same) fail("stepAsync under transfer attempts did not give step()'s bits");
    ok(`transfers: ${hows.join(', ')}; the parameters are step()'s bits`);
  },

  // Memory stays flat over 50,000 synchronous optimizer steps that never yield (fused clip, Adam
  // with amsgrad and SGD with momentum, a parameter without a gradient, one with fresh gradients).
  async 'optim-soak'() {
    const g = await load();
    const model = Array.from({ length: 12 }, (_, i) => ({
      data: new Float32Array(300 + i).fill(0.1),
      grad: i === 5 ? null : new Float32Array(300 + i).fill(0.01),
    }));
    const adam = new g.Adam(model.slice(0, 6), { amsgrad: true, max_grad_norm: 1 });
    const sgd = new g.SGD(model.slice(6), { lr: 0.01, momentum: 0.9, nesterov: true, clip_value: 0.5 });
    const startRss = rssMB();
    for (let s = 0; s < 50_000; s++) {
      model[11].grad = new Float32Array(311).fill(s % 3);
      adam.step();
      sgd.step();
    }
    const endRss = rssMB();
    const line = `backend ${g.getBackend().name}: RSS ${startRss.toFixed(0)} MB → ${endRss.toFixed(0)} MB over 50000 optimizer steps`;
    if (!model.every((p) => p.data.every(Number.isFinite))) fail(`non-finite parameters; ${line}`);
    if (endRss - startRss > (process.env.GRADCLIP_ASAN ? 1536 : 64)) fail(line);
    ok(line);
  },

  async soak() {
    const g = await load();
    const steps = 100_000;
    const model = [
      ...Array.from({ length: 8 }, (_, i) => ({ grad: new Float32Array(512).fill(0.01 * (i + 1)) })),
      { grad: new Float32Array(512) }, // a frozen parameter: all-zero gradient
      { grad: null },
    ];
    const startRss = rssMB();
    let peak = startRss;
    for (let s = 0; s < steps; s++) {
      g.clip_grad_norm_(model, 1);
      const fresh = [new Float32Array(256).fill(s % 7), new Float64Array(64).fill(1)];
      g.clip_grad_norm_(fresh, 0.5);
      if (s % 10_000 === 0) peak = Math.max(peak, rssMB());
    }
    const midRss = rssMB();
    for (let s = 0; s < 500; s++) {
      const big = [new Float32Array(1 << 20).fill(1)]; // 4 MiB, fresh every step
      g.clip_grad_norm_(big, 1);
      peak = Math.max(peak, rssMB());
    }
    const endRss = rssMB();
    const grew = Math.max(midRss, endRss) - startRss;
    const line = `backend ${g.getBackend().name}: RSS ${startRss.toFixed(0)} MB → ${midRss.toFixed(0)} MB after ${steps} steps (a zero gradient, fresh arrays each step) → ${endRss.toFixed(0)} MB after 500 fresh 4 MiB steps; peak ${peak.toFixed(0)} MB`;
    // Under AddressSanitizer every malloc of the process (V8's too, js backend included) goes
    // through its allocator, which keeps freed memory in quarantine and its own caches: there the
    // soak looks for memory errors, and the flat-memory bound is the plain run's.
    if (grew > (process.env.GRADCLIP_ASAN ? 1536 : 96)) fail(line);
    ok(line);
  },

  // The same for what came after issue 8: 16-bit gradients (fresh float16()/bfloat16() views every step,
  // a 16-bit GradientBuffer), per-tensor norms into a caller's array, {min, max} bounds, per-tensor clips
  // and the skip policy. After a warm-up, 30,000 steps of seven calls each must not grow RSS.
  async 'soak-16bit'() {
    const g = await load();
    const f16 = Array.from({ length: 6 }, (_, i) => new Uint16Array(700 + i));
    const bf16 = Array.from({ length: 6 }, (_, i) => new Uint16Array(500 + i));
    const f32 = Array.from({ length: 4 }, (_, i) => new Float32Array(400 + i));
    const perTensor = new Float64Array(f16.length + bf16.length + f32.length);
    const buffer = new g.GradientBuffer([300, 301], { dtype: 'bfloat16' });
    let startRss = 0;
    let norm = 0;
    for (let s = 0; s < 35_000; s++) {
      if (s === 5_000) startRss = rssMB();
      for (const a of f16) a.fill(0x3c00 + (s % 5)); // 1.0 and just above
      for (const a of bf16) a.fill(0x3f80 + (s % 5));
      for (const a of f32) a.fill(0.5);
      buffer.flat.bits.fill(0x4000);
      const list = [...f16.map((a) => g.float16(a)), ...bf16.map((a) => g.bfloat16(a)), ...f32];
      norm = g.clipGradNorm(list, 1e3, { perTensorNorms: perTensor });
      g.getNorms(list);
      g.clipGradValue(list, { min: -100, max: 100 });
      g.clipGradNormPerTensor(list, 1e3);
      g.clipGradRmsPerTensor(list, 1e3);
      g.clipGradNorm(list, 1, { onNonFinite: 'skip' });
      g.clip_grad_norm_(buffer.views, 1);
    }
    const endRss = rssMB();
    const line = `backend ${g.getBackend().name}: RSS ${startRss.toFixed(0)} MB → ${endRss.toFixed(0)} MB over 30000 steps of 16-bit and per-tensor calls`;
    if (!(norm > 0) || perTensor.some((x) => !(x > 0))) fail(`wrong norms (${norm}); ${line}`);
    // The last step's final clip (a finite norm: 'skip' scales) left a total norm of 1, to 16-bit rounding.
    const after = g.getTotalNorm([...f16.map((a) => g.float16(a)), ...bf16.map((a) => g.bfloat16(a)), ...f32]);
    if (!(Math.abs(after - 1) < 0.01)) fail(`after the last clip the norm is ${after}, not 1; ${line}`);
    if (endRss - startRss > (process.env.GRADCLIP_ASAN ? 1536 : 32)) fail(line);
    ok(line);
  },

  // A seeded fuzz of the public API: every call either throws the error the js reference throws,
  // with nothing written, or gives the reference's result and the reference's gradients.
  async fuzz() {
    const g = await load();
    const backend = g.getBackend().name;
    const calls = Number(process.env.FUZZ_CALLS ?? 10_000);
    const r = rng(20261127);
    const pick = (xs) => xs[Math.floor(r() * xs.length)];
    const specials = [
      0,
      -0,
      1,
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1e-30,
      1e30,
      3e38,
      1e-310,
      1e300,
    ];
    class Tensor extends Float32Array {
      constructor(shape) {
        super(shape.reduce((a, b) => a * b, 1));
      }
    }
    const makers = [
      (n) => new Float32Array(n),
      (n) => new Float64Array(n),
      (n) => new Tensor([n]),
      (n) => new Float32Array(new SharedArrayBuffer(4 * (n + 3)), 8, n),
      (n) => new Float64Array(new ArrayBuffer(8 * (n + 2)), 8, n),
    ];
    const sizes = () => pick([0, 1, 2, 7, 31, 32, 33, 100, 1000, 65537]);
    function fill(a) {
      const scale = 2 ** Math.floor(r() * 40 - 20);
      for (let i = 0; i < a.length; i++) a[i] = r() < 0.03 ? pick(specials) : (r() - 0.5) * scale;
      return a;
    }
    function item() {
      const k = r();
      if (k < 0.05) return null;
      if (k < 0.08) return pick([3, 'grad', new Int32Array(4), {}, new Proxy(new Float32Array(2), {})]);
      const maker = pick(makers);
      const a = fill(maker(sizes()));
      return k < 0.4 ? { grad: a } : a;
    }
    const fns = [
      [
        'clip_grad_norm_',
        () => [
          pick([1, 0.5, 1e-3, 1e9, 0, -1, Number.NaN, '1']),
          pick([2, 1, 'inf', '-inf', 0, 3, 0.5, -2, Number.NaN]),
          pick([false, true]),
          null,
        ],
      ],
      ['clip_grad_value_', () => [pick([1, 0.1, 0, -1, Number.NaN, Number.POSITIVE_INFINITY])]],
      ['get_total_norm', () => [pick([2, 1, 'inf', '-inf', 0, 3, 0.5, -2]), pick([false, true])]],
      ['clip_grads_with_norm_', () => [pick([1, 0.5, -1]), pick([1, 10, 0, Number.NaN, Number.POSITIVE_INFINITY, -3])]],
      [
        'clipGradNorm',
        () => [
          pick([1, 1e-3, 1e9]),
          pick([undefined, { normType: pick([2, 1, 'inf', 0, 3]) }, { errorIfNonfinite: true }, { bogus: 1 }]),
        ],
      ],
      ['getTotalNorm', () => [pick([undefined, { normType: pick([2, 1, '-inf', 0, 1.5]) }])]],
      ['clipGradValue', () => [pick([1, 0.25, Number.NaN])]],
    ];
    const bitsEqual = (x, y) => {
      const a = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const b = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
      if (a.length !== b.length) return false;
      const f = x instanceof Float64Array ? Float64Array : Float32Array;
      for (let i = 0; i < x.length; i++) {
        // Any NaN matches any NaN (NaN payloads are not part of this contract yet).
        if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
        if (x[i] === 0 && Object.is(x[i], -0) !== Object.is(y[i], -0)) return false;
      }
      return f !== undefined;
    };
    const isFloatArrayEarly = (a) => /^\[object Float(32|64)Array\]$/.test(Object.prototype.toString.call(a));
    const clone = (it) => {
      if (it === null || typeof it !== 'object' || !('grad' in it || ArrayBuffer.isView(it))) return it;
      const grad = 'grad' in it ? it.grad : it;
      if (!isFloatArrayEarly(grad)) return it;
      const copy = new (grad instanceof Float64Array ? Float64Array : Float32Array)(grad.length);
      copy.set(grad);
      return 'grad' in it ? { grad: copy } : copy;
    };
    // Real Float32Array/Float64Array (a Proxy of one is not: it is refused, and never written).
    const isFloatArray = (a) => /^\[object Float(32|64)Array\]$/.test(Object.prototype.toString.call(a));
    const arraysOf = (list) =>
      list.map((it) => (it && typeof it === 'object' && 'grad' in it ? it.grad : it)).filter(isFloatArray);
    const ref = await import(`${ENTRY}?reference`);
    ref.setBackend('js');
    let threw = 0;
    let checked = 0;
    for (let c = 0; c < calls; c++) {
      const list = Array.from({ length: Math.floor(r() * 6) }, item);
      const [fn, argsOf] = pick(fns);
      const args = argsOf();
      const copies = list.map(clone);
      const before = arraysOf(list).map((a) => new (a instanceof Float64Array ? Float64Array : Float32Array)(a));
      let got;
      let want;
      let gotErr;
      let wantErr;
      try {
        got = g[fn](list, ...args);
      } catch (e) {
        gotErr = e;
      }
      try {
        want = ref[fn](copies, ...args);
      } catch (e) {
        wantErr = e;
      }
      const where = `call ${c}: ${fn}(${list.length} items, ${JSON.stringify(args)})`;
      if (!!gotErr !== !!wantErr) fail(`${where}: ${describeError(gotErr)} vs reference ${describeError(wantErr)}`);
      if (gotErr) {
        threw++;
        if (gotErr.constructor.name !== wantErr.constructor.name || gotErr.message !== wantErr.message) {
          fail(`${where}: ${describeError(gotErr)} vs reference ${describeError(wantErr)}`);
        }
        arraysOf(list).forEach((a, i) => {
          if (!bitsEqual(a, before[i])) fail(`${where}: threw but wrote gradient ${i}`);
        });
        continue;
      }
      if (!(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)))) {
        const p = {
          clip_grad_norm_: args[1],
          get_total_norm: args[0],
          clipGradNorm: args[1]?.normType,
          getTotalNorm: args[0]?.normType,
        }[fn];
        const exactP = [1, 2, 'inf', '-inf', 0, undefined].includes(p);
        if (exactP || !(Math.abs(got - want) <= 1e-12 * Math.abs(want)))
          fail(`${where}: result ${got} vs reference ${want}`);
        continue; // a general p: the coefficient may differ in the last bit, so the gradients may too
      }
      const mine = arraysOf(list);
      const theirs = arraysOf(copies);
      mine.forEach((a, i) => {
        if (!bitsEqual(a, theirs[i])) fail(`${where}: gradient ${i} differs from the reference`);
      });
      checked++;
    }
    ok(
      `${backend}: ${calls} calls, ${threw} threw as the reference did with nothing written, ${checked} matched the reference bit for bit`,
    );
  },
};

const run = scenarios[name];
if (!run) fail(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
run().catch((e) => fail(`threw ${e?.stack ?? e}`));
