#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBinding, packageRoot } from '../backends/native.js';
import { getBackend } from '../index.js';
import { nativeOneThread, type OneThreadTime, type Row, runBench, SHAPES, smallCallMicros } from './bench.js';
import { runHalfBench } from './bench-half.js';
import { runOptimBench } from './bench-optim.js';
import { DEMO_HELP, runAdaptive, runCliff, runDemo } from './demo.js';
import { fixed, progressBar, table } from './format.js';
import { onlyFlags, print, UsageError } from './io.js';
import { type TorchTimings, torchTimings } from './torch-bench.js';

/** `gradclip` command: info, demo, bench. */

const HELP = `gradclip — PyTorch's gradient clipping for JavaScript

Usage:
  gradclip demo [options]       train an RNN on the adding problem with and without clipping (SVG charts)
  gradclip demo cliff           the cliff in a two-parameter RNN's error surface (SVG)
  gradclip demo adaptive        fixed max_norm against AutoClip and ZClip (table and SVG charts)
  gradclip info [--json]        backend in use, ISA, threads, fallbacks, versions
  gradclip bench [--quick]      throughput benchmark (medians, GB/s, ratio to a bandwidth probe)
  gradclip bench optim          the optimizer step with the clip fused in, against PyTorch
  gradclip bench half           float16 / bfloat16 norm passes against float32's, from memory and cache
  gradclip <command> --help     help for one command
`;

const INFO_HELP = `gradclip info [--json]

Which backend gradclip chose here (native, wasm or js), the kernel set (ISA) and thread count,
every backend passed over and why, the native kernel sets this CPU can run, whether this runtime
supports wasm SIMD, and the versions of gradclip, Node, V8 and Node-API. --json: the same as JSON.
`;

const BENCH_HELP = `gradclip bench [--quick] [--no-torch] [--json]
gradclip bench optim [--quick] [--no-torch]
gradclip bench half [--quick]

Times clip_grad_norm_ (coef < 1), the no-clip case (coef = 1), clip_grad_value_ and
get_total_norm with p = 3 (gradclip's own pow, the same bits on every backend) and getNorms
(the total and every tensor's norm from one pass) on
1×1M, 1×16M, 1×64M, 1000×1000, 10000×100 and GPT-2-small shapes (float32): the native
backend (1 thread and all threads), wasm (zero-copy GradientBuffer and plain arrays),
the js backend and a naive JS loop, side by side with PyTorch's torch.nn.utils when
python3 can import torch. Prints one table of median ms per call, the speed-up over
PyTorch and how close native comes to the memory bandwidth measured in the same run.
--quick: three shapes, shorter runs (about a minute); --no-torch: skip PyTorch;
--json: every measurement, machine-readable.
Then the 16-bit rows (also \`gradclip bench half\` alone): one norm pass over float32, float16 and
bfloat16 values on each backend, from memory and from cache, and the ratio float32's arithmetic
alone would allow a 16-bit pass.
Without --quick (and as \`gradclip bench optim\` alone): the optimizer table of issue 12 —
optim.SGD (momentum 0.9) and optim.AdamW with max_grad_norm fused into the step on GPT-2-small
shapes, against PyTorch's clip_grad_norm_ + optimizer.step() on one thread, gradclip's own unfused
loop, 2 threads, wasm, and the memory probes.
`;

async function bench(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    print(BENCH_HELP);
    return;
  }
  if (args[0] === 'half') {
    onlyFlags(args.slice(1), ['--quick'], 'bench half');
    runHalfBench({ quick: args.includes('--quick') });
    return;
  }
  if (args[0] === 'optim') {
    onlyFlags(args.slice(1), ['--quick', '--no-torch'], 'bench optim');
    runOptimBench({ quick: args.includes('--quick'), torch: !args.includes('--no-torch') });
    return;
  }
  onlyFlags(args, ['--quick', '--no-torch', '--json', '--goals'], 'bench');
  const quick = args.includes('--quick');
  const bar = progressBar('bench');
  const result = await runBench({
    shapes: quick ? ['1×1M', '1×16M', '10000×100'] : undefined,
    minTimeMs: quick ? 150 : 400,
    progress: (d, t, label) => bar.update(d, t, label),
  });
  bar.done();
  const small = { native: Number.NaN, js: smallCallMicros('js') };
  const shapeNames = new Set(result.rows.map((r) => r.shape));
  const torch = args.includes('--no-torch')
    ? 'skipped (--no-torch)'
    : torchTimings(
        SHAPES.filter((s) => shapeNames.has(s.name)),
        quick ? 150 : 400,
      );
  try {
    small.native = smallCallMicros('native');
  } catch {}
  if (args.includes('--json')) {
    print(JSON.stringify({ ...result, smallCallMicros: small, torch }, null, 2));
    return;
  }
  printBenchTable(result.rows, result.env, torch);
  print(
    `\none 1024-element tensor, clip_grad_norm_ end to end: native ${fixed(small.native, 2)} µs, js ${fixed(small.js, 2)} µs (median)`,
  );
  if (args.includes('--goals')) {
    printGoals(result, small);
    const oneShapes = SHAPES.filter((s) => s.name === '1×64M' || s.name.startsWith('GPT-2'));
    const minTime = quick ? 150 : 400;
    // gradclip's side timed right before and right after PyTorch's (the same minutes on a drifting VM).
    const names = oneShapes.map((s) => s.name);
    const mineBefore = typeof torch === 'string' ? [] : nativeOneThread(names, minTime);
    const one = typeof torch === 'string' ? torch : torchTimings(oneShapes, minTime, 1);
    const mineAfter = typeof torch === 'string' ? [] : nativeOneThread(names, minTime);
    printTorchGoals(one, mineBefore, mineAfter);
  }
  runHalfBench({ quick });
  if (!quick) runOptimBench({ torch: !args.includes('--no-torch') });
}

/**
 * Issue 10's goals: gradclip native and PyTorch each on one thread, in the same run: torch's times are
 * measured with torch.set_num_threads(1), gradclip's right before and right after it (the mean of the two
 * medians). Our "no-clip" is the total norm alone (a coefficient of 1 writes nothing); torch's no-clip
 * multiplies by 1, its "norm" is the norm alone.
 */
function printTorchGoals(torch: TorchTimings | string, before: OneThreadTime[], after: OneThreadTime[]): void {
  if (typeof torch === 'string') {
    print(`\ngoals (issue 10): PyTorch unavailable (${torch})`);
    return;
  }
  const at = (times: OneThreadTime[], shape: string, op: OneThreadTime['op']) =>
    times.find((r) => r.shape.startsWith(shape) && r.op === op)?.ms;
  const ours = (shape: string, op: OneThreadTime['op']) => {
    const a = at(before, shape, op);
    const b = at(after, shape, op);
    return a === undefined || b === undefined ? undefined : (a + b) / 2;
  };
  const theirs = (shape: string, op: string) => torch.rows.find((r) => r.shape.startsWith(shape) && r.op === op)?.ms;
  const goals: string[][] = [];
  const goal = (
    name: string,
    a: number | undefined,
    b: number | undefined,
    target: string,
    ok: (r: number) => boolean,
  ) => {
    const r = a !== undefined && b !== undefined ? a / b : undefined;
    goals.push([
      name,
      a === undefined ? '-' : fixed(a, 2),
      b === undefined ? '-' : fixed(b, 2),
      r === undefined ? '-' : `${fixed(r, 2)}×`,
      target,
      r === undefined ? '-' : ok(r) ? 'met' : 'MISSED',
    ]);
  };
  goal(
    '1×64M total norm: gradclip / torch vector_norm',
    ours('1×64M', 'no-clip'),
    theirs('1×64M', 'norm'),
    '≤ 1.0',
    (r) => r <= 1,
  );
  goal('1×64M clip: gradclip / torch', ours('1×64M', 'clip'), theirs('1×64M', 'clip'), '≤ 0.9', (r) => r <= 0.9);
  const nc = ours('1×64M', 'no-clip');
  const tnc = theirs('1×64M', 'no-clip');
  goal('1×64M no-clip: torch / gradclip (speed-up)', tnc, nc, '≥ 1.8', (r) => r >= 1.8);
  goal('GPT-2 small clip: gradclip / torch', ours('GPT-2', 'clip'), theirs('GPT-2', 'clip'), '≤ 0.9', (r) => r <= 0.9);
  const drift = (shape: string) => {
    const a = at(before, shape, 'clip');
    const b = at(after, shape, 'clip');
    return a === undefined || b === undefined ? '-' : `${fixed(a, 2)} / ${fixed(b, 2)} ms`;
  };
  print(
    `\ngoals (issue 10): one thread each, PyTorch ${torch.version} with torch.set_num_threads(1), median ms; ` +
      'gradclip timed right before and after PyTorch, the mean of the two',
  );
  print(`(gradclip's clip before / after PyTorch: 1×64M ${drift('1×64M')}, GPT-2 small ${drift('GPT-2')})`);
  print(table(['goal', 'a', 'b', 'a / b', 'target', ''], goals));
  // How fast can any clip be here? It must read every gradient before it writes one, so it costs at least
  // the fastest read pass plus the fastest read-write pass measured over the same bytes in these minutes,
  // by either library. When that floor is above 0.9× torch's clip, the ≤ 0.9 goal is out of this
  // machine's reach (only the last ~L3-size of the read pass can still be in cache when the write pass starts).
  const floors: string[][] = [];
  for (const shape of ['1×64M', 'GPT-2']) {
    const best = (xs: (number | undefined)[]) => Math.min(...xs.filter((x): x is number => x !== undefined));
    const read = best([ours(shape, 'no-clip'), ours(shape, 'read probe'), theirs(shape, 'norm')]);
    const write = best([ours(shape, 'read-write probe'), theirs(shape, 'scale')]);
    const clip = theirs(shape, 'clip');
    if (!Number.isFinite(read) || !Number.isFinite(write) || clip === undefined) continue;
    const r = (read + write) / clip;
    floors.push([
      shape,
      fixed(read, 2),
      fixed(write, 2),
      fixed(read + write, 2),
      fixed(clip, 2),
      `${fixed(r, 2)}×`,
      r > 0.9 ? 'out of reach here' : 'reachable',
    ]);
  }
  print(
    '\ntwo-pass floor, 1 thread: the fastest read pass (gradclip norm, read probe, torch vector_norm) + the fastest\n' +
      "read-write pass (gradclip scale, torch mul_) in these minutes, against torch's clip (ms):",
  );
  print(table(['shape', 'read', 'read-write', 'floor', 'torch clip', 'floor / torch', '≤ 0.9'], floors));
}

/**
 * One row per shape and operation, one column per implementation (median ms), then PyTorch and
 * gradclip's speed-up over it, and how close native's one-thread time is to the memory probes.
 */
function printBenchTable(rows: Row[], env: string, torch: TorchTimings | string): void {
  const impls = [...new Set(rows.map((r) => r.impl))];
  const keys = [...new Set(rows.map((r) => `${r.shape}\u0000${r.op}`))];
  const best = (shape: string, op: string) =>
    rows.filter((r) => r.shape === shape && r.op === op && r.impl.startsWith('native')).at(-1);
  const out = keys.map((key) => {
    const [shape, op] = key.split('\u0000');
    const cells = impls.map((impl) => {
      const r = rows.find((x) => x.shape === shape && x.op === op && x.impl === impl);
      return r ? fixed(r.medianMs, 3) : '-';
    });
    const t = typeof torch === 'string' ? undefined : torch.rows.find((x) => x.shape === shape && x.op === op);
    const ours = best(shape, op);
    const probe = rows.find((x) => x.shape === shape && x.op === op && x.impl === 'native 1 thread')?.probeRatio;
    return [
      shape,
      op,
      ...cells,
      t ? fixed(t.ms, 3) : '-',
      t && ours ? `${fixed(t.ms / ours.medianMs, 1)}×` : '-',
      probe == null ? '-' : fixed(probe, 2),
    ];
  });
  const torchName = typeof torch === 'string' ? 'PyTorch' : `PyTorch ${torch.version.split('a')[0]}`;
  print(`gradclip bench — ${env}; median ms of each call, float32\n`);
  print(table(['shape', 'op', ...impls, torchName, 'vs PyTorch', '× probe'], out));
  print(
    '\nvs PyTorch: PyTorch time / gradclip native (all threads). × probe: native, 1 thread, against plain\n' +
      'passes over the same bytes in this run (a read for no-clip and the p=3 norm, a read-write for value,\n' +
      'both for clip: a clip must know the norm before it scales): 1.0 is the memory bandwidth.',
  );
  if (typeof torch === 'string') print(`PyTorch: ${torch}`);
  else
    print(
      `PyTorch ${torch.version} (${torch.python}, ${torch.threads} threads) timed the same shapes with torch.nn.utils.`,
    );
}

/** The maintainers' goal tables (issues 3 and 4): `gradclip bench --goals`, `npm run bench:goals`. */
function printGoals(
  result: { rows: Row[]; probes: Record<string, number> },
  small: { native: number; js: number },
): void {
  print('\nprobes (median ms):');
  print(
    table(
      ['probe', 'ms'],
      Object.entries(result.probes).map(([k, v]) => [k, fixed(v, 3)]),
    ),
  );
  const find = (shape: string, op: string, impl: string) =>
    result.rows.find((r) => r.shape === shape && r.op === op && r.impl.startsWith(impl));
  const n1 = (shape: string, op: string) => find(shape, op, 'native 1');
  const nAll = (shape: string, op: string) =>
    find(shape, op, 'native') &&
    result.rows.filter((r) => r.shape === shape && r.op === op && r.impl.startsWith('native')).at(-1);
  const goals: string[][] = [];
  const goal = (name: string, value: number | undefined, target: string, ok: boolean | undefined) =>
    goals.push([
      name,
      value === undefined ? '-' : fixed(value, 2),
      target,
      ok === undefined ? '-' : ok ? 'met' : 'MISSED',
    ]);
  const r64 = n1('1×64M', 'clip');
  goal(
    '1×64M clip, 1 thread: × read+write probes',
    r64?.probeRatio ?? undefined,
    '≤ 1.15',
    r64?.probeRatio != null ? r64.probeRatio <= 1.15 : undefined,
  );
  const r64n = n1('1×64M', 'no-clip');
  goal(
    '1×64M no-clip, 1 thread: × read probe',
    r64n?.probeRatio ?? undefined,
    '≤ 1.15',
    r64n?.probeRatio != null ? r64n.probeRatio <= 1.15 : undefined,
  );
  const all64 = nAll('1×64M', 'clip');
  const speedup = r64 && all64 ? r64.medianMs / all64.medianMs : undefined;
  goal(
    '1×64M clip: all threads vs 1 thread (speed-up)',
    speedup,
    '≥ 1.4',
    speedup === undefined ? undefined : speedup >= 1.4,
  );
  const small10k = nAll('10000×100', 'clip');
  const one1m = nAll('1×1M', 'clip');
  const ratio10k = small10k && one1m ? small10k.medianMs / one1m.medianMs : undefined;
  goal('10000×100 clip: × our 1×1M clip time', ratio10k, '≤ 3', ratio10k === undefined ? undefined : ratio10k <= 3);
  const gpt = nAll('GPT-2 small (124M in 148)', 'clip');
  goal(
    'GPT-2 small clip: × read+write probes',
    gpt?.probeRatio ?? undefined,
    '≤ 1.15',
    gpt?.probeRatio != null ? gpt.probeRatio <= 1.15 : undefined,
  );
  goal(
    'one 1024-element tensor end to end (µs)',
    small.native,
    '≤ 2',
    Number.isNaN(small.native) ? undefined : small.native <= 2,
  );
  print('\ngoals (issue 3):');
  print(table(['goal', 'measured', 'target', ''], goals));
  const wasmGoals: string[][] = [];
  const w = (impl: string) => find('1×16M', 'clip', impl);
  const nat = n1('1×16M', 'clip');
  for (const [impl, target] of [
    ['wasm zero-copy', 0.5],
    ['wasm scratch', 0.25],
  ] as const) {
    const row = w(impl);
    const ratio = row && nat ? nat.medianMs / row.medianMs : undefined;
    wasmGoals.push([
      `1×16M clip, ${impl} vs native 1 thread (throughput)`,
      ratio === undefined ? '-' : fixed(ratio, 2),
      `≥ ${target}`,
      ratio === undefined ? '-' : ratio >= target ? 'met' : 'MISSED',
    ]);
  }
  print('\ngoals (issue 4):');
  print(table(['goal', 'measured', 'target', ''], wasmGoals));
}

/** The smallest module using a v128 instruction: validates only where wasm SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

function info(args: string[]): void {
  onlyFlags(args, ['--json'], 'info');
  const backend = getBackend();
  let native: Record<string, unknown> | string;
  try {
    const { isa, supported, threads, parallelThreshold, block, lanes } = nativeBinding().info();
    native = { isa, supported, threads, parallelThreshold, block, lanes };
  } catch (err) {
    native = (err as Error).message;
  }
  const report = {
    ...backend,
    versions: {
      gradclip: packageVersion(),
      node: process.versions.node,
      v8: process.versions.v8,
      napi: process.versions.napi,
    },
    platform: `${process.platform}-${process.arch}`,
    wasmSimd: typeof WebAssembly !== 'undefined' && WebAssembly.validate(SIMD_PROBE),
    native,
  };
  if (args.includes('--json')) {
    print(JSON.stringify(report, null, 2));
    return;
  }
  print(`backend:    ${backend.name} (${backend.isa}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'})`);
  print(`fallbacks:  ${backend.fallbacks.length ? backend.fallbacks.join('\n            ') : 'none'}`);
  if (typeof native === 'string') print(`native:     unavailable: ${native}`);
  else
    print(
      `native:     kernel sets on this CPU: ${(native.supported as string[]).join(', ')}; parallel above ${native.parallelThreshold} elements`,
    );
  print(`wasm SIMD:  ${report.wasmSimd ? 'supported' : 'not supported'} by this runtime`);
  print(
    `versions:   gradclip ${report.versions.gradclip}, node ${report.versions.node}, v8 ${report.versions.v8}, N-API ${report.versions.napi}; ${report.platform}`,
  );
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    print(HELP);
    return 0;
  }
  if (command === 'demo') {
    if (rest.includes('--help') || rest.includes('-h')) print(DEMO_HELP);
    else if (rest[0] === 'cliff') runCliff(rest.slice(1));
    else if (rest[0] === 'adaptive') runAdaptive(rest.slice(1));
    else runDemo(rest);
  } else if (command === 'bench') await bench(rest);
  else if (command === 'info') {
    if (rest.includes('--help') || rest.includes('-h')) print(INFO_HELP);
    else info(rest);
  } else {
    throw new UsageError(`unknown command '${command.slice(0, 40)}' (see gradclip --help)`);
  }
  return 0;
}

// Usage errors exit 2, failures 1; see src/cli/io.ts.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`gradclip: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
