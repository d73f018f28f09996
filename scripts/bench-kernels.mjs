#!/usr/bin/env node
// npm run bench:kernels [-- <elements> <repetitions>]: builds native/bench/ with the kernels (the
// per-ISA flags of binding.gyp, -O3 as the addon) and the plain-C twins (-O3 -ffast-math
// -march=native; the general-p sum also without -ffast-math), then prints each kernel's median against its
// twin's. A benchmark, not a test.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cxx = process.env.CXX || 'g++';
const out = join(root, 'build', 'bench-kernels');
mkdirSync(out, { recursive: true });
const x86 = process.arch === 'x64';
const common = ['-O3', '-std=c++17', '-ffp-contract=off', '-pthread'];
const units = [
  ['native/kernels/scalar.cc', common, []],
  ['native/kernels/sse2.cc', common, []],
  ['native/kernels/neon.cc', common, []],
  ['native/kernels/avx2.cc', common, x86 ? ['-mavx2', '-mfma', '-mf16c'] : []],
  ['native/kernels/avx512.cc', common, x86 ? ['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mavx2', '-mfma', '-mf16c'] : []],
  ['native/dispatch.cc', common, []],
  ['native/bench/kernels_bench.cc', common, []],
  ['native/bench/twins.cc', ['-O3', '-std=c++17', '-ffast-math', '-march=native'], []],
  ['native/bench/twins_precise.cc', ['-O3', '-std=c++17', '-march=native'], []],
];
const objects = units.map(([src, base, flags]) => {
  const obj = join(out, `${src.replace(/[/.]/g, '_')}.o`);
  execFileSync(cxx, [...base, ...flags, '-c', join(root, src), '-o', obj], { stdio: 'inherit' });
  return obj;
});
const exe = join(out, 'kernels_bench');
execFileSync(cxx, ['-pthread', ...objects, '-o', exe], { stdio: 'inherit' });
const run = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit' });
process.exit(run.status ?? 1);
