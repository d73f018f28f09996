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

// p ∈ {1, 2, ±inf, 0}, and general p through gradclip's own pow (issue 15.5).
const IDENTITY_P = [1, 2, 'inf', '-inf', 0, 3, 0.5, 1.5, -1];
const IDENTITY_CASES = 2 * 8 * IDENTITY_P.length;

/**
 * Norms with general p on fixed lists, as hex bits joined: the same string in every runtime and
 * backend (scripts/test-runtimes.mjs compares each runtime's with Node's).
 */
export function powDigest(g) {
  let seed = 99;
  const rand = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const out = [];
  for (const Ctor of [Float32Array, Float64Array]) {
    for (const n of [1, 37, 1000, 70001]) {
      const list = [Ctor.from({ length: n }, () => (rand() - 0.5) * 2 ** Math.floor(rand() * 40 - 20))];
      for (const p of [3, 3.5, 0.5, 1.5, -1, -2.5, 7, 1 / 3, 100]) out.push(bitsOf(g.get_total_norm(list, p)));
    }
  }
  return out.join(' ');
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
      for (const p of IDENTITY_P) {
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

// ---- NaN bits (SPEC §6): every NaN gradclip writes is the canonical quiet NaN of the dtype;
// an element it does not change keeps its bits. Run many times, past the engines' JIT tiering.
const F32_NAN = 0x7fc00000;
const F64_NAN_HI = 0x7ff80000;
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function f32From(words) {
  return new Float32Array(new Uint32Array(words).buffer);
}
function f64From(pairs) {
  // pairs: [hi, lo] words of each element
  const w = new Uint32Array(pairs.length * 2);
  pairs.forEach(([hi, lo], i) => {
    w[2 * i] = LE ? lo : hi;
    w[2 * i + 1] = LE ? hi : lo;
  });
  return new Float64Array(w.buffer);
}
const hex = (x) => (x >>> 0).toString(16).padStart(8, '0');
/** Element i's bits as hex (f32: 8 digits, f64: 16). */
function bitsAt(a, i) {
  const w = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  if (a instanceof Float32Array) return hex(w[i]);
  return LE ? hex(w[2 * i + 1]) + hex(w[2 * i]) : hex(w[2 * i]) + hex(w[2 * i + 1]);
}
const CANON32 = hex(F32_NAN);
const CANON64 = `${hex(F64_NAN_HI)}00000000`;

const ONE32 = 0x3f800000;
const TWO32 = 0x40000000;
const INF32 = 0x7f800000;
const ONE64 = [0x3ff00000, 0];
const TWO64 = [0x40000000, 0];
const INF64 = [0x7ff00000, 0];

/**
 * The NaN cases, each a fresh list per call: [name, make(), call(g, grads), expected bits of every
 * element ('canon' for the canonical NaN, 'same' for the input's own bits, 'number' for a non-NaN)].
 */
const NAN_CASES = [
  // A NaN total scales everything by NaN: every element becomes the canonical NaN.
  [
    'f32 NaN total',
    () => [f32From([ONE32, 0x7f800001, 0x7fc12345, TWO32])],
    (g, x) => g.clip_grad_norm_(x, 1),
    ['canon', 'canon', 'canon', 'canon'],
  ],
  [
    'f64 NaN total',
    () => [f64From([ONE64, [0x7ff00000, 1], [0x7ff80000, 0x12345], TWO64])],
    (g, x) => g.clip_grad_norm_(x, 1),
    ['canon', 'canon', 'canon', 'canon'],
  ],
  // p = 0 counts a NaN as nonzero: the total is finite and a NaN element is scaled by a finite coefficient.
  [
    'f32 NaN element, finite coefficient',
    () => [f32From([ONE32, 0xffc12345, TWO32, 0x7f800001])],
    (g, x) => g.clip_grad_norm_(x, 1, 0),
    ['number', 'canon', 'number', 'canon'],
  ],
  [
    'f64 NaN element, finite coefficient',
    () => [f64From([ONE64, [0xfff80000, 0x12345], TWO64, [0x7ff00000, 1]])],
    (g, x) => g.clip_grad_norm_(x, 1, 0),
    ['number', 'canon', 'number', 'canon'],
  ],
  // max_norm 0 and an infinite norm: the coefficient is 0 and inf × 0 is NaN (x86 makes it negative).
  [
    'f32 inf × 0',
    () => [f32From([INF32, 0xff800000, ONE32])],
    (g, x) => g.clip_grad_norm_(x, 0, 'inf'),
    ['canon', 'canon', 'number'],
  ],
  [
    'f64 inf × 0',
    () => [f64From([INF64, [0xfff00000, 0], ONE64])],
    (g, x) => g.clip_grad_norm_(x, 0, 'inf'),
    ['canon', 'canon', 'number'],
  ],
  // Clamping leaves a NaN as it is: its bits, signalling or not, are kept.
  [
    'f32 clamp keeps NaN bits',
    () => [f32From([0x7f800001, 0xffc12345, TWO32])],
    (g, x) => g.clip_grad_value_(x, 1),
    ['same', 'same', 'number'],
  ],
  [
    'f64 clamp keeps NaN bits',
    () => [f64From([[0x7ff00000, 1], [0xfff80000, 0x12345], TWO64])],
    (g, x) => g.clip_grad_value_(x, 1),
    ['same', 'same', 'number'],
  ],
];

/**
 * Runs every NaN case `iterations` times on each backend (plus one multi-block array with scattered
 * NaNs) and returns { failures, bits }: bits lists the distinct NaN bit patterns written.
 */
export function nanBitsCases(g, backends, iterations = 20000) {
  const failures = [];
  const written = new Set();
  for (const name of backends) {
    g.setBackend(name);
    for (const [label, make, call, expected] of NAN_CASES) {
      const original = make()[0];
      let failed = false;
      for (let it = 0; it < iterations && !failed; it++) {
        const grads = make();
        call(g, grads);
        const a = grads[0];
        for (let i = 0; i < expected.length; i++) {
          const got = bitsAt(a, i);
          const nan = a[i] !== a[i];
          const canon = a instanceof Float32Array ? CANON32 : CANON64;
          if (nan) written.add(got);
          const want = expected[i];
          const ok = want === 'canon' ? got === canon : want === 'same' ? got === bitsAt(original, i) : !nan;
          if (!ok) {
            failures.push(
              `${name} ${label}: call ${it}, element ${i} is ${got} (want ${want === 'canon' ? canon : want === 'same' ? bitsAt(original, i) : 'a number'})`,
            );
            failed = true;
            break;
          }
        }
      }
    }
    // Several blocks (and threads on native), NaNs of both signs scattered: all canonical.
    for (const Ctor of [Float32Array, Float64Array]) {
      const a = new Ctor(3 * 65536 + 11).fill(0.5);
      for (const i of [0, 70000, 131072, 196618]) a[i] = Number.NaN;
      const w = new Uint32Array(a.buffer);
      if (Ctor === Float32Array) w[70000] = 0xffc00001;
      else w[2 * 70000 + (LE ? 1 : 0)] = 0xfff80000;
      g.clip_grad_norm_([a], 1);
      const canon = Ctor === Float32Array ? CANON32 : CANON64;
      for (let i = 0; i < a.length; i++) {
        if (bitsAt(a, i) !== canon) {
          failures.push(`${name} ${Ctor.name} ${a.length} elements: element ${i} is ${bitsAt(a, i)}`);
          break;
        }
      }
    }
  }
  return { failures, bits: [...written].sort() };
}

/**
 * 16-bit gradients (issue 13): a runtime's own Float16Array where it has one (Chromium, Deno; not Node
 * 20), and raw bits through float16(u16) / bfloat16(u16), on each backend: the same norm and the same
 * bits everywhere, and the Float16Array's result is float16(u16)'s.
 */
export function float16Cases(g, backends) {
  const failures = [];
  const values = [3, -4, 0.1, 65504, 1e-7, -0, 2.5e-3, -700];
  const results = [];
  for (const name of backends) {
    g.setBackend(name);
    const bits = new Uint16Array(values.length);
    const f = new Float32Array(values);
    const u = new Uint32Array(f.buffer);
    // float32 → float16 by hand (these values need no subnormal or rounding care beyond truncation checks).
    const native16 = typeof Float16Array === 'function' ? new Float16Array(values) : null;
    if (native16) bits.set(new Uint16Array(native16.buffer));
    else for (let i = 0; i < values.length; i++) bits[i] = f32ToF16(u[i]);
    const bf = Uint16Array.from(u, (x) => x >>> 16);
    const t16 = g.clip_grad_norm_([g.float16(bits)], 1);
    const tbf = g.clip_grad_norm_([g.bfloat16(bf)], 1);
    let tNative = null;
    if (native16) {
      tNative = g.clip_grad_norm_([native16], 1);
      const after = new Uint16Array(native16.buffer);
      if (tNative !== t16 || after.some((b, i) => b !== bits[i])) {
        failures.push(`${name}: Float16Array gave ${tNative}, float16(bits) ${t16} (or other bits)`);
      }
    }
    results.push(`${t16},${tbf},${Array.from(bits).join(':')},${Array.from(bf).join(':')}`);
  }
  if (new Set(results).size !== 1) failures.push(`16-bit results differ between backends: ${results.join(' / ')}`);
  const where = typeof Float16Array === 'function' ? 'Float16Array and raw bits' : 'raw bits (no Float16Array here)';
  return { failures, summary: `${where}, identical on ${backends.join('/')}` };
}

/** float32 bits → float16 bits, round to nearest even (the runtime has no Float16Array to do it). */
function f32ToF16(u) {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a < 0x38800000) return sign | Math.round(new Float32Array(new Uint32Array([a]).buffer)[0] * 2 ** 24);
  const base = (a - 0x38000000) >>> 13;
  const rem = a & 0x1fff;
  return sign | (base + (rem > 0x1000 || (rem === 0x1000 && (base & 1) === 1) ? 1 : 0));
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
  // 10,000 live small GradientBuffers on wasm (issue 15.6: Chromium refused the 124th when each
  // was a memory of its own), each one clipped in place.
  const live = [];
  let liveError = null;
  try {
    for (let i = 0; i < 10000; i++) {
      const b = new g.GradientBuffer([3 + (i % 97), 4]);
      b.views[1].set([3, 4, 0, 0]);
      live.push(b);
    }
  } catch (err) {
    liveError = `GradientBuffer ${live.length + 1}: ${err.message}`;
  }
  const liveClipped = live.every((b) => g.clip_grad_norm_([b.views[1]], 1) === 5 && b.views[1][0] < 1);
  const gradientBuffers = { live: live.length, memories: new Set(live.map((b) => b.views[0].buffer)).size };
  live.length = 0;
  g.setBackend(before);
  // gradclip's pow: the same bits on every backend here (and, compared by the harness, in every runtime).
  const digests = {};
  for (const name of before === 'native' ? ['js', 'wasm', 'native'] : ['js', 'wasm']) {
    g.setBackend(name);
    digests[name] = powDigest(g);
  }
  g.setBackend(before);
  const nan = nanBitsCases(g, before === 'native' ? ['js', 'wasm', 'native'] : ['js', 'wasm']);
  g.setBackend(before);
  const half = float16Cases(g, before === 'native' ? ['js', 'wasm', 'native'] : ['js', 'wasm']);
  g.setBackend(before);
  return {
    backend: info,
    fixtures: { passed, failed: failures.length },
    identity: { cases: IDENTITY_CASES, failed: identity.length },
    powDigest: digests,
    zeroCopy,
    nanBits: nan.bits,
    float16: half.summary,
    gradientBuffers,
    failures: [
      ...failures,
      ...identity,
      ...nan.failures,
      ...half.failures,
      ...(zeroCopy ? [] : ['GradientBuffer on wasm']),
      ...(liveError ? [liveError] : []),
      ...(liveClipped ? [] : ['a live GradientBuffer was not clipped in place']),
    ].slice(0, 20),
    ok:
      failures.length === 0 &&
      identity.length === 0 &&
      nan.failures.length === 0 &&
      half.failures.length === 0 &&
      zeroCopy &&
      liveError === null &&
      liveClipped,
  };
}
