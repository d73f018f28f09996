#!/usr/bin/env node
// `npm test`: the C++ kernel tests, then the whole vitest suite once on the automatic
// backend choice and once more per forced backend / instruction set, so every path runs.
// Extra arguments go to vitest (e.g. `npm test -- test/api.test.ts`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const extra = process.argv.slice(2);
const results = [];

function step(name, command, args, env = {}) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  results.push({ name, ok: r.status === 0 });
}

// The adversarial scenarios and the runtime checks run the built package: build it if any source
// is newer than dist/ (CI's npm ci has just built it; a contributor may have edited since).
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return t;
}
const dist = join(root, 'dist', 'index.js');
if (!existsSync(dist) || Math.max(newest('src'), newest('assembly')) > statSync(dist).mtimeMs) {
  step('build (npm run build:js: dist/ is older than src/)', process.execPath, ['scripts/build-wasm.mjs']);
  step('build: tsup', process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js')]);
}

let isas = [];
try {
  isas = require('node-gyp-build')(root).info().supported;
} catch (err) {
  console.log(`native addon not loadable (${String(err.message).split('\n')[0]}); native runs skipped`);
}

// The C++ kernel tests build with g++/clang++ (Windows runners test the kernels through vitest).
if (isas.length > 0 && extra.length === 0 && process.platform !== 'win32') {
  step('C++ kernel tests', process.execPath, ['scripts/test-native.mjs']);
}
const vitest = [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...extra];
step('vitest, automatic backend', process.execPath, vitest);
if (!process.env.GRADCLIP_BACKEND) {
  // One line per test file for the repeat runs (the first run above shows every test).
  const quiet = [...vitest, '--silent'];
  step('vitest, GRADCLIP_BACKEND=js', process.execPath, quiet, { GRADCLIP_BACKEND: 'js' });
  step('vitest, GRADCLIP_BACKEND=wasm (SIMD module)', process.execPath, quiet, { GRADCLIP_BACKEND: 'wasm' });
  step('vitest, GRADCLIP_BACKEND=wasm GRADCLIP_WASM=scalar', process.execPath, quiet, {
    GRADCLIP_BACKEND: 'wasm',
    GRADCLIP_WASM: 'scalar',
  });
  for (const isa of isas.slice(1)) {
    step(`vitest, GRADCLIP_BACKEND=native GRADCLIP_ISA=${isa}`, process.execPath, quiet, {
      GRADCLIP_BACKEND: 'native',
      GRADCLIP_ISA: isa,
    });
  }
}

// Chromium, Deno, Bun and workerd, through the package's export conditions (needs the build).
if (extra.length === 0 && !process.env.GRADCLIP_BACKEND) {
  if (existsSync(join(root, 'dist', 'browser.js'))) step('real runtimes (Chromium, Deno, Bun, workerd)', process.execPath, ['scripts/test-runtimes.mjs']);
  else console.log('\nreal runtimes skipped: run npm run build first');
}

// The package as users get it: npm pack (prebuilt addons included), attw, publint, TypeScript
// consumers, the README's code blocks, Node and browser bundles, the arm64 prebuild under qemu.
if (extra.length === 0 && !process.env.GRADCLIP_BACKEND) {
  step('the packed package (attw, publint, TypeScript consumers, README blocks, bundles)', process.execPath, [
    'scripts/check-package.mjs',
  ]);
}

console.log('\n=== summary ===');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
