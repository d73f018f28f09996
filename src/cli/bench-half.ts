import { get_total_norm } from '../clip.js';
import { bfloat16, float16 } from '../half-api.js';
import { getBackend, setBackend, setNumThreads } from '../registry.js';
import { timeMedian } from './bench.js';
import { fixed, table } from './format.js';
import { print } from './io.js';

/**
 * Issue 13's 16-bit rows: one norm pass (get_total_norm, p = 2) over 2^24 float32, float16 and bfloat16
 * values, as GB/s of gradient data, and each 16-bit pass's bytes per second against float32's on the same
 * backend and thread count (goal ≥ 0.8).
 *
 * Next to them, the same passes from cache (64 references to one 2^16-value array: L2-resident, one call)
 * and the bound they set: a 16-bit pass does float32's arithmetic per element (widen to double, square,
 * add in SPEC §6's lanes) plus a decode, so even with a free decode and free memory it cannot run faster
 * than float32's in-cache elements per second. That rate × 2 bytes ÷ float32's bytes/s from memory is the
 * highest ratio any 16-bit kernel could show; where it is below 0.8 the goal is out of reach by arithmetic.
 */
export function runHalfBench(options: { quick?: boolean } = {}): void {
  const n = 1 << 24;
  const small = 1 << 16;
  const copies = 64;
  const minTime = options.quick ? 150 : 400;
  const data = (count: number) => {
    const f32 = new Float32Array(count);
    const f16 = new Uint16Array(count);
    const bf16 = new Uint16Array(count);
    let seed = 1;
    for (let i = 0; i < count; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      f32[i] = seed / 2 ** 32 - 0.5;
      f16[i] = (seed >>> 16) & 0xbbff; // finite float16 values of both signs, |x| < 1, 1/8 subnormal
      bf16[i] = (seed >>> 16) & 0xbf7f; // finite bfloat16 values of both signs, |x| < 1
    }
    return { f32, f16, bf16 };
  };
  const big = data(n);
  const cached = data(small);
  const before = getBackend();
  const configs: [string, 'native' | 'wasm' | 'js', number][] = [
    ['native, 1 thread', 'native', 1],
    ['native, 2 threads', 'native', 2],
    ['wasm', 'wasm', 1],
    ['js', 'js', 1],
  ];
  const gbs = (bytes: number, ms: number) => bytes / 1e9 / (ms / 1e3);
  const rows: string[][] = [];
  for (const [name, backend, threads] of configs) {
    try {
      setBackend(backend);
    } catch {
      continue;
    }
    if (backend === 'native') setNumThreads(threads);
    const slow = backend !== 'native';
    const t = (arrays: Parameters<typeof get_total_norm>[0]) =>
      timeMedian(() => get_total_norm(arrays), slow ? minTime / 2 : minTime, 3, slow ? 10 : 200);
    const ms32 = t([big.f32]);
    const ms16 = t([float16(big.f16)]);
    const msbf = t([bfloat16(big.bf16)]);
    const many = <T>(x: T) => Array.from({ length: copies }, () => x);
    const c32 = t(many(cached.f32));
    const c16 = t(many(float16(cached.f16)));
    const cbf = t(many(bfloat16(cached.bf16)));
    const cachedCount = small * copies;
    const r16 = gbs(2 * n, ms16) / gbs(4 * n, ms32);
    const rbf = gbs(2 * n, msbf) / gbs(4 * n, ms32);
    const bound = gbs(2 * cachedCount, c32) / gbs(4 * n, ms32);
    rows.push([
      `${name} (${getBackend().isa})`,
      `${fixed(gbs(4 * n, ms32), 1)} GB/s`,
      `${fixed(gbs(2 * n, ms16), 1)} / ${fixed(gbs(2 * n, msbf), 1)} GB/s`,
      `${fixed(r16, 2)} / ${fixed(rbf, 2)}`,
      `${fixed(gbs(4 * cachedCount, c32), 1)} | ${fixed(gbs(2 * cachedCount, c16), 1)} / ${fixed(gbs(2 * cachedCount, cbf), 1)}`,
      fixed(bound, 2),
      r16 >= 0.8 && rbf >= 0.8 ? 'met' : bound < 0.8 ? 'missed (bound < 0.8)' : 'MISSED',
    ]);
  }
  setBackend(before.name);
  if (before.name === 'native') setNumThreads(before.threads);
  print(
    "\n16-bit norm passes (get_total_norm; goal: a 16-bit pass reads ≥ 0.8× float32's bytes per second)\n" +
      'memory: 2^24 values; in cache: 64 × one 2^16-value array; bound: float32 in-cache values/s × 2 B ÷ float32 memory B/s',
  );
  print(
    table(
      [
        'backend',
        'float32 (memory)',
        'float16 / bfloat16',
        '÷ float32 B/s',
        'in cache: f32 | f16 / bf16 GB/s',
        'bound',
        'goal ≥ 0.8',
      ],
      rows,
    ),
  );
}
