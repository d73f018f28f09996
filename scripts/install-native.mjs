#!/usr/bin/env node
// `npm install` hook: use a prebuilt addon if one matches, else build native/ with node-gyp.
// A failed build must not fail the installation: gradclip then runs on wasm or js, and the
// reason is kept in build/native-build-failure.txt for getBackend().fallbacks to show.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const failureFile = join(root, 'build', 'native-build-failure.txt');
const require = createRequire(import.meta.url);

if (process.env.GRADCLIP_SKIP_NATIVE_BUILD) {
  console.log('gradclip: GRADCLIP_SKIP_NATIVE_BUILD is set, not building the native addon');
  process.exit(0);
}

let bin;
try {
  bin = require.resolve('node-gyp-build/bin.js');
} catch {
  bin = undefined;
}
const result = bin
  ? spawnSync(process.execPath, [bin], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' })
  : { status: 1, stderr: 'node-gyp-build is not installed' };

if (result.status === 0) {
  rmSync(failureFile, { force: true });
  process.exit(0);
}
const stderr = `${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
process.stderr.write(stderr);
// The first compiler error or Error: line says why; the rest is stack and make noise.
const lines = stderr
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => /(^|\s)(error:|Error:|fatal error)/.test(l) && !/^at /.test(l))
  .slice(0, 2);
const reason = lines.length > 0 ? lines.join(' | ') : `node-gyp exited with status ${result.status}`;
mkdirSync(dirname(failureFile), { recursive: true });
writeFileSync(failureFile, `${reason}\n`);
console.warn(`gradclip: the native addon could not be built (${reason}); falling back to wasm/js.`);
process.exit(0);
