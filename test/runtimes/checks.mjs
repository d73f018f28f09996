// Runtime-agnostic checks (no Node built-ins): a fixture subset against torch's answers on the
// active backend, and wasm == js bit for bit, inside whatever runtime imports this file.
// Used by scripts/test-runtimes.mjs for Chromium, Deno, Bun and workerd.

const num = (v) =>
  v === 'NaN'
    ? Number.NaN
    : v === 'Infinity'
      ? Number.POSITIVE_INFINITY
      : v === '-Infinity'
        ? Number.NEGATIVE_INFINITY
        : v;
const close = (a, b, rtol) =>
  (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b));

function bitsOf(x) {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16);
}

function sameBytes(a, b) {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function fixtureCase(g, c) {
  const Ctor = c.dtype === 'float32' ? Float32Array : Float64Array;
  const grads = c.grads.map((a) => Ctor.from(a, num));
  const rtol = c.dtype === 'float32' ? 2e-5 : 1e-10;
  const call = c.call;
  if (c.error) {
    try {
      g.clip_grad_norm_(grads, call.max_norm, call.norm_type ?? 2, true);
      return 'no error thrown';
    } catch (err) {
      return err.message === c.error ? null : `message: ${err.message}`;
    }
  }
  let result;
  if (c.fn === 'clip_grad_norm_') result = g.clip_grad_norm_(grads, call.max_norm, num(call.norm_type ?? 2));
  else if (c.fn === 'get_total_norm') result = g.get_total_norm(grads, num(call.norm_type ?? 2));
  else if (c.fn === 'clip_grad_value_') g.clip_grad_value_(grads, call.clip_value);
  if (result !== undefined && !close(result, num(c.result), rtol)) return `total ${result} != ${c.result}`;
  for (let i = 0; i < grads.length; i++) {
    for (let j = 0; j < grads[i].length; j++) {
      if (!close(grads[i][j], num(c.after[i][j]), rtol)) return `grad ${i}[${j}] ${grads[i][j]} != ${c.after[i][j]}`;
    }
  }
  return null;
}

function identityCases(g) {
  const failures = [];
  let seed = 7;
  const rand = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (const Ctor of [Float32Array, Float64Array]) {
    for (const n of [0, 1, 31, 33, 200, 65535, 65537, 131073]) {
      const base = Ctor.from({ length: n }, () => (rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 20));
      for (const p of [1, 2, 'inf', '-inf', 0]) {
        const results = {};
        for (const name of ['js', 'wasm']) {
          g.setBackend(name);
          const a = base.slice();
          const total = g.clip_grad_norm_([a], 1e-3, p);
          results[name] = { bits: bitsOf(total), a };
        }
        if (results.js.bits !== results.wasm.bits || !sameBytes(results.js.a, results.wasm.a)) {
          failures.push(`${Ctor.name} n=${n} p=${p}: wasm ${results.wasm.bits} vs js ${results.js.bits}`);
        }
      }
    }
  }
  return failures;
}

export async function runChecks(g, fixtures) {
  await g.ready;
  const info = g.getBackend();
  const failures = [];
  let passed = 0;
  for (const c of fixtures) {
    const why = fixtureCase(g, c);
    if (why === null) passed++;
    else failures.push(`${c.name}: ${why}`);
  }
  const before = info.name;
  const identity = identityCases(g);
  g.setBackend(before);
  // The zero-copy buffer on wasm.
  g.setBackend('wasm');
  const buf = new g.GradientBuffer([3, 4]);
  buf.views[1].set([3, 4, 0, 0]);
  const zeroCopy = g.clip_grad_norm_(buf.views, 1) === 5 && Math.abs(g.get_total_norm(buf.views) - 1) < 1e-6;
  g.setBackend(before);
  return {
    backend: info,
    fixtures: { passed, failed: failures.length },
    identity: { cases: 80, failed: identity.length },
    zeroCopy,
    failures: [...failures, ...identity, ...(zeroCopy ? [] : ['GradientBuffer on wasm'])].slice(0, 20),
    ok: failures.length === 0 && identity.length === 0 && zeroCopy,
  };
}
