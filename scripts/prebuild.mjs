#!/usr/bin/env node
// `npm run prebuild` (also npm's pre-hook of `npm run build`): builds the addon with
// prebuildify into prebuilds/<platform>-<arch>/, the binaries the npm tarball ships so that
// installs without install scripts still get the native backend. Without a compiler the
// build goes on (gradclip falls back to wasm/js) unless GRADCLIP_REQUIRE_PREBUILD=1 (prepack).
//
// On linux-x64 with Debian's cross compiler (apt-get install g++-aarch64-linux-gnu), linux-arm64
// is cross-built too (NEON kernels), and, with qemu-user-static, loaded and run under qemu by
// scripts/check-arm64-prebuild.mjs. macOS and Windows binaries come from real runners
// (.github/workflows/prebuild.yml).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const bin = require.resolve('prebuildify/bin.js');
const required = process.env.GRADCLIP_REQUIRE_PREBUILD === '1';

function prebuild(label, extraArgs, env = {}) {
  const result = spawnSync(process.execPath, [bin, '--napi', '--strip', '--target=node@20.0.0', ...extraArgs], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (result.status === 0) return true;
  const message = `gradclip: prebuildify (${label}) failed (status ${result.status ?? result.error?.message})`;
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(`${message}; continuing without that prebuilt addon`);
  return false;
}

prebuild(`${process.platform}-${process.arch}`, []);

const cross = 'aarch64-linux-gnu-g++';
if (process.platform === 'linux' && process.arch === 'x64' && spawnSync(cross, ['--version']).status === 0) {
  prebuild('linux-arm64, cross-built', ['--arch=arm64'], {
    CC: 'aarch64-linux-gnu-gcc',
    CXX: cross,
    LINK: cross,
    AR: 'aarch64-linux-gnu-ar',
    // The cross binutils' strip, not the host's.
    PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip',
  });
}
