#!/usr/bin/env node
// `npm run prebuild` (also npm's pre-hook of `npm run build`): builds the addon with
// prebuildify into prebuilds/<platform>-<arch>/, the binary the npm tarball ships so that
// installs without install scripts still get the native backend. Without a compiler the
// build goes on (gradclip falls back to wasm/js) unless GRADCLIP_REQUIRE_PREBUILD=1 (prepack).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const bin = require.resolve('prebuildify/bin.js');
const result = spawnSync(process.execPath, [bin, '--napi', '--strip', '--target=node@20.0.0'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  const message = `gradclip: prebuildify failed (status ${result.status})`;
  if (process.env.GRADCLIP_REQUIRE_PREBUILD === '1') {
    console.error(message);
    process.exit(1);
  }
  console.warn(`${message}; continuing without a prebuilt addon`);
}
