#!/usr/bin/env node
// npm run bench:kernels [-- <elements> <repetitions>]: builds native/bench/ with the kernels (the
// per-ISA flags of binding.gyp, -O3 as the addon) and, for each kernel set, the plain-C twins built
// with that set's flags (-O3 -ffast-math; the general-p sum also without -ffast-math: libm's accurate
// pow). Then one process per set prints each kernel's median against its twin's. For the sets without
// AVX2 and FMA (sse2, scalar) glibc is told to pick its pow for such a CPU (GLIBC_TUNABLES), as it would
// there; the scalar set's twins are also built without auto-vectorization (a CPU with no vector unit).
// A benchmark, not a test.
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
const avx2 = ['-mavx2', '-mfma', '-mf16c'];
const avx512 = ['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', ...avx2];
const noVector = ['-fno-tree-vectorize', '-fno-tree-slp-vectorize'];
// [kernel set, its flags, the flags of its twins]
const sets = x86
  ? [
      ['avx512', avx512, avx512],
      ['avx2', avx2, avx2],
      ['sse2', [], []],
      ['scalar', [], noVector],
    ]
  : [
      ['neon', [], []],
      ['scalar', [], noVector],
    ];
const units = [
  ['native/kernels/scalar.cc', common],
  ['native/kernels/sse2.cc', common],
  ['native/kernels/neon.cc', common],
  ...(x86
    ? [
        ['native/kernels/avx2.cc', [...common, ...avx2]],
        ['native/kernels/avx512.cc', [...common, ...avx512]],
      ]
    : [
        ['native/kernels/avx2.cc', common],
        ['native/kernels/avx512.cc', common],
      ]),
  ['native/dispatch.cc', common],
  ['native/bench/kernels_bench.cc', common],
];
const build = (src, flags, name = src.replace(/[/.]/g, '_')) => {
  const obj = join(out, `${name}.o`);
  execFileSync(cxx, [...flags, '-c', join(root, src), '-o', obj], { stdio: 'inherit' });
  return obj;
};
const objects = units.map(([src, flags]) => build(src, flags));
for (const [isa, , flags] of sets) {
  const base = ['-O3', '-std=c++17', `-DTWIN_NS=twins_${isa}`, ...flags];
  objects.push(build('native/bench/twins.cc', [...base, '-ffast-math'], `twins_${isa}_fast`));
  objects.push(build('native/bench/twins.cc', [...base, '-DTWIN_PRECISE'], `twins_${isa}_precise`));
}
const exe = join(out, 'kernels_bench');
execFileSync(cxx, ['-pthread', ...objects, '-o', exe], { stdio: 'inherit' });

const [elements = String(2 ** 26), reps = '9'] = process.argv.slice(2);
const supported = execFileSync(exe, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
console.log(`bench:kernels — ${elements} float32 elements (${Math.round((Number(elements) * 4) / 1e6)} MB), one thread, medians of ${reps}`);
console.log('each kernel against the plain-C twin built for the same instruction set; ratio = kernel / twin\n');
console.log(`${'isa'.padEnd(8)} ${'kernel'.padEnd(27)} ${'kernel ms'.padStart(10)} ${'twin ms'.padStart(10)} ${'ratio'.padStart(8)}`);
let status = 0;
for (const isa of supported) {
  const env = { ...process.env };
  // glibc's pow ifunc picks its FMA build when the CPU has AVX2 and FMA: not for a CPU these sets are for.
  if (x86 && (isa === 'sse2' || isa === 'scalar')) env.GLIBC_TUNABLES = 'glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4';
  const run = spawnSync(exe, [elements, reps, isa], { stdio: 'inherit', env });
  status ||= run.status ?? 1;
}
console.log(
  '\nsum |x|^3: gradclip\'s pow (the same bits on every backend, SPEC §6) against libm\'s accurate pow (the plain\n' +
    "loop's) and, in brackets, libmvec's vector pow (-ffast-math, up to 4 ulp). The last row sets the twins against\n" +
    "each other: float accumulation (torch's CPU norm) / double.",
);
process.exit(status);
