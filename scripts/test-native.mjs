#!/usr/bin/env node
// Builds native/test/kernels_test.cc with the same per-ISA flags as binding.gyp and runs it.
//   node scripts/test-native.mjs                 host build (x86-64: every ISA; arm64: NEON)
//   node scripts/test-native.mjs --arm64         cross-build with aarch64-linux-gnu-g++, run under qemu-aarch64
//   node scripts/test-native.mjs --sanitize      with AddressSanitizer + UndefinedBehaviorSanitizer
//   node scripts/test-native.mjs --huge          also the 2^31+100-element tensor (8 GiB of address space, ~40 s)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arm64 = process.argv.includes('--arm64');
const sanitize = process.argv.includes('--sanitize');
const hostArm = process.arch === 'arm64';
const cxx = arm64 ? 'aarch64-linux-gnu-g++' : process.env.CXX || 'g++';
if (arm64 && spawnSync(cxx, ['--version']).error) {
  console.error(`${cxx} not found: install Debian's g++-aarch64-linux-gnu and qemu-user-static (apt-get install -y g++-aarch64-linux-gnu qemu-user-static)`);
  process.exit(1);
}
const out = join(root, 'build', arm64 ? 'native-test-arm64' : sanitize ? 'native-test-asan' : 'native-test');
mkdirSync(out, { recursive: true });

const common = ['-O2', '-std=c++17', '-ffp-contract=off', '-pthread', '-Wall'];
if (sanitize) common.push('-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=all');
const x86 = !arm64 && !hostArm;
const units = [
  ['native/kernels/scalar.cc', []],
  ['native/kernels/sse2.cc', []],
  ['native/kernels/neon.cc', []],
  ['native/kernels/avx2.cc', x86 ? ['-mavx2', '-mfma', '-mf16c'] : []],
  ['native/kernels/avx512.cc', x86 ? ['-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mavx2', '-mfma', '-mf16c', '-Wno-maybe-uninitialized'] : []],
  ['native/engine.cc', []],
  ['native/dispatch.cc', []],
  ['native/pool.cc', []],
  ['native/test/kernels_test.cc', []],
];
const objects = units.map(([src, flags]) => {
  const obj = join(out, `${src.replace(/[/.]/g, '_')}.o`);
  execFileSync(cxx, [...common, ...flags, '-c', join(root, src), '-o', obj], { stdio: 'inherit' });
  return obj;
});
const exe = join(out, 'kernels_test');
execFileSync(cxx, [...common, ...(arm64 ? ['-static'] : []), ...objects, '-o', exe], { stdio: 'inherit' });

const env = { ...process.env };
if (process.argv.includes('--huge')) env.GRADCLIP_HUGE_TEST = '1';
const run = arm64 ? spawnSync('qemu-aarch64-static', [exe], { stdio: 'inherit', env }) : spawnSync(exe, { stdio: 'inherit', env });
if (run.error) {
  console.error(`could not run ${exe}: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
