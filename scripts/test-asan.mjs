#!/usr/bin/env node
// `npm run test:asan`: the C++ kernel tests and the whole vitest suite against an addon built
// with AddressSanitizer + UndefinedBehaviorSanitizer. The sanitized addon is built in
// build/asan/ (so normal runs never load it) and found through GRADCLIP_PREBUILD; node itself
// is not instrumented, so the ASan runtime is preloaded.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asanRoot = join(root, 'build', 'asan');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts }).status === 0;

let ok = run(process.execPath, ['scripts/test-native.mjs', '--sanitize']);

rmSync(asanRoot, { recursive: true, force: true });
mkdirSync(asanRoot, { recursive: true });
for (const f of ['binding.gyp', 'package.json', 'native']) cpSync(join(root, f), join(asanRoot, f), { recursive: true });
const nodeGyp = process.env.npm_config_node_gyp;
const gypArgs = ['rebuild', '--', '-Dsanitize=1'];
if (nodeGyp) execFileSync(process.execPath, [nodeGyp, ...gypArgs], { cwd: asanRoot, stdio: 'inherit', env: { ...process.env, npm_config_loglevel: 'warn' } });
else execFileSync('npx', ['--yes', 'node-gyp', ...gypArgs], { cwd: asanRoot, stdio: 'inherit' });

const libasan = execFileSync(process.env.CXX || 'g++', ['-print-file-name=libasan.so']).toString().trim();
const env = {
  ...process.env,
  LD_PRELOAD: libasan,
  // node's own allocations at exit are not ours to report; everything else aborts the run.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  GRADCLIP_PREBUILD: asanRoot,
  // No GRADCLIP_BACKEND: the automatic choice loads the sanitized addon (checked below), and the
  // adversarial suite, which runs only in the automatic pass, runs against it too.
  GRADCLIP_ASAN: '1',
};
const probe = spawnSync(process.execPath, ['-e', "const b=require('node-gyp-build'); console.log(b.resolve(process.cwd()), b(process.cwd()).info().isa)"], { cwd: root, env, encoding: 'utf8' });
console.log(`sanitized addon: ${probe.stdout.trim()}${probe.stderr}`);
const auto = spawnSync(process.execPath, ['-e', "import('./dist/index.js').then((g) => console.log(g.getBackend().name))"], { cwd: root, env, encoding: 'utf8' });
if (auto.stdout.trim() !== 'native') {
  console.log(`test:asan: the automatic backend is ${auto.stdout.trim() || auto.stderr}, not the sanitized native addon`);
  process.exit(1);
}
ok = run(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], { env }) && ok;
console.log(ok ? 'test:asan: clean' : 'test:asan: FAILED');
process.exit(ok ? 0 : 1);
