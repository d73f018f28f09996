import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/backends/native.js';

/**
 * The hostile and long-running scenarios of test/adversarial/scenarios.mjs, each in a child
 * process against the built package (dist/), so that a crash, an abort or a hang fails one test
 * instead of taking the runner down. They pick their backends themselves, so they run once, in
 * the automatic-backend pass of `npm test`, not again in the forced-backend passes.
 */

const root = join(__dirname, '..');
const built = existsSync(join(root, 'dist', 'index.js'));
let nativeOk = true;
try {
  loadNative();
} catch {
  nativeOk = false;
}
const once = !process.env.GRADCLIP_BACKEND && built;

const bun = join(root, 'node_modules', '.bin', 'bun');
// Not under test:asan: AddressSanitizer cannot handle a C++ exception inside Bun (a statically linked
// runtime): with libasan preloaded, any exception the addon throws and catches aborts Bun in ASan's
// own CHECKs (asan_poisoning.cpp / the __cxa_throw interceptor), even a plain bad-argument TypeError.
// These scenarios run against the normal addon in every other pass.
const bunOk = existsSync(bun) && !process.env.GRADCLIP_ASAN;

function scenario(
  args: string[],
  timeoutMs = 120_000,
  runtime: 'node' | 'bun' = 'node',
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const script = join(root, 'test/adversarial/scenarios.mjs');
    const [cmd, argv] =
      runtime === 'bun' ? [bun, [script, ...args]] : [process.execPath, ['--expose-gc', script, ...args]];
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...process.env, GRADCLIP_BACKEND: '' },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: out.trim() });
    });
  });
}

async function expectOk(args: string[], timeoutMs?: number, runtime: 'node' | 'bun' = 'node'): Promise<string> {
  const { code, signal, out } = await scenario(args, timeoutMs, runtime);
  const last = out.split('\n').at(-1) ?? '';
  console.log(
    `[adversarial] ${runtime === 'bun' ? 'bun ' : ''}${args.join(' ')}: ${signal ? `killed by ${signal}` : last}`,
  );
  expect({ code, signal, tail: out.slice(-600) }).toEqual({
    code: 0,
    signal: null,
    tail: expect.stringMatching(/ok: .*$/),
  });
  return last;
}

describe.runIf(once)('adversarial: the native boundary (issue 8)', () => {
  it.runIf(nativeOk)(
    'an own length property that outlives a transfer: TypeError, the new owner untouched',
    async () => {
      expect(await expectOk(['cache-own-length', 'native'])).toMatch(/detached/);
    },
  );
  it.runIf(nativeOk)('a subclass whose length getter lies: TypeError, the new owner untouched', async () => {
    await expectOk(['cache-subclass-length', 'native']);
  });
  it('a getter that detaches an array read earlier in the same list: TypeError naming it, on every backend', async () => {
    for (const backend of nativeOk ? ['native', 'wasm', 'js'] : ['wasm', 'js']) {
      expect(await expectOk(['cache-getter-detaches-other', backend])).toMatch(/parameters\[0\]\.grad/);
    }
  });
  it.runIf(nativeOk)(
    'async: a resizable buffer is refused; a transfer or postMessage in flight moves nothing',
    async () => {
      await expectOk(['async-resizable', 'native']);
      expect(await expectOk(['async-transfer-gc', 'native'])).toMatch(/clipped/);
      expect(await expectOk(['async-postmessage', 'native'])).toMatch(/did not change/);
    },
  );
  it.runIf(nativeOk)(
    "optim stepAsync: transfers of its arrays in flight move nothing; the result is step()'s",
    async () => {
      expect(await expectOk(['optim-async-transfer', 'native'])).toMatch(/step\(\)'s bits/);
    },
  );
  for (const mode of ['async', 'sync', 'load', 'exit', 'mixed']) {
    it(`terminating workers that use gradclip (${mode}) never takes the process down`, async () => {
      await expectOk(['worker-terminate', mode]);
    });
  }
  it.runIf(bunOk)(
    'Bun: terminating workers with native clips in flight (async and sync) never takes the process down',
    async () => {
      await expectOk(['worker-terminate', 'async'], 120_000, 'bun');
      await expectOk(['worker-terminate', 'sync'], 120_000, 'bun');
    },
  );
  it.runIf(nativeOk)(
    'only workers load gradclip: the pool is joined when each goes, no thread outlives it',
    async () => {
      await expectOk(['worker-only-unload']);
    },
  );
  it.runIf(nativeOk)(
    'thread count: capped, trimmed when lowered, and a refused thread only means fewer threads',
    async () => {
      expect(await expectOk(['thread-cap'])).toMatch(/RangeError/);
      expect(await expectOk(['thread-failure'])).toMatch(/no abort/);
    },
  );
});

describe.runIf(once)('adversarial: long runs and a seeded API fuzz (issue 8)', () => {
  const backends = nativeOk ? ['native', 'wasm', 'js'] : ['wasm', 'js'];
  for (const backend of backends) {
    it(`${backend}: RSS stays flat over 100,000 synchronous steps (zero gradient, fresh arrays) and 500 fresh 4 MiB steps`, async () => {
      expect(await expectOk(['soak', backend], 180_000)).toMatch(/RSS/);
    });
    it(`${backend}: RSS stays flat over 50,000 synchronous optimizer steps (fused clip, Adam and SGD)`, async () => {
      expect(await expectOk(['optim-soak', backend], 180_000)).toMatch(/RSS/);
    });
    it(`${backend}: RSS stays flat over 30,000 synchronous steps of 16-bit, per-tensor and {min, max} calls`, async () => {
      expect(await expectOk(['soak-16bit', backend], 180_000)).toMatch(/RSS/);
    });
    it(`${backend}: 10,000 seeded API calls agree with the js reference; none that threw wrote anything`, async () => {
      expect(await expectOk(['fuzz', backend], 180_000)).toMatch(/10000 calls/);
    });
  }
});
