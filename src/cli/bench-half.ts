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
 */
export function runHalfBench(options: { quick?: boolean } = {}): void {
  const n = 1 << 24;
  const minTime = options.quick ? 150 : 400;
  const f32 = new Float32Array(n);
  const f16 = new Uint16Array(n);
  const bf16 = new Uint16Array(n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    f32[i] = seed / 2 ** 32 - 0.5;
    f16[i] = (seed >>> 16) & 0xbbff; // finite float16 values of both signs, |x| < 1
    bf16[i] = (seed >>> 16) & 0xbf7f; // finite bfloat16 values of both signs, |x| < 1
  }
  const before = getBackend();
  const configs: [string, 'native' | 'wasm' | 'js', number][] = [
    ['native, 1 thread', 'native', 1],
    ['native, 2 threads', 'native', 2],
    ['wasm', 'wasm', 1],
    ['js', 'js', 1],
  ];
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
    const ms32 = t([f32]);
    const ms16 = t([float16(f16)]);
    const msbf = t([bfloat16(bf16)]);
    const gbs = (bytes: number, ms: number) => bytes / 1e9 / (ms / 1e3);
    const r16 = gbs(2 * n, ms16) / gbs(4 * n, ms32);
    const rbf = gbs(2 * n, msbf) / gbs(4 * n, ms32);
    rows.push([
      `${name} (${getBackend().isa})`,
      `${fixed(ms32, 2)} ms, ${fixed(gbs(4 * n, ms32), 1)} GB/s`,
      `${fixed(ms16, 2)} ms, ${fixed(gbs(2 * n, ms16), 1)} GB/s`,
      `${fixed(msbf, 2)} ms, ${fixed(gbs(2 * n, msbf), 1)} GB/s`,
      `${fixed(r16, 2)} / ${fixed(rbf, 2)}`,
      r16 >= 0.8 && rbf >= 0.8 ? 'met' : 'MISSED',
    ]);
  }
  setBackend(before.name);
  if (before.name === 'native') setNumThreads(before.threads);
  print(
    "\n16-bit norm passes (get_total_norm, 2^24 values; goal: a 16-bit pass reads ≥ 0.8× float32's bytes per second)",
  );
  print(table(['backend', 'float32', 'float16', 'bfloat16', '16-bit B/s ÷ float32 (f16 / bf16)', 'goal ≥ 0.8'], rows));
}
