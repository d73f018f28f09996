import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Backend choice at load time (GRADCLIP_BACKEND) and at run time (setBackend). */

async function freshImport() {
  vi.resetModules();
  // The registry's state is shared on globalThis (one choice for every copy of gradclip); a fresh
  // import here stands for a fresh process, so it starts without it.
  delete (globalThis as Record<symbol, unknown>)[Symbol.for('gradclip.registry.v1')];
  return import('../src/index.js');
}

/** getBackend() of a fresh process with these environment variables (the native addon reads them at load). */
function backendIn(env: Record<string, string>) {
  const script = "import('./src/index.ts').then((g) => console.log(JSON.stringify(g.getBackend())))";
  const out = execFileSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return JSON.parse(out);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('backend selection (SPEC §7)', () => {
  it('reports the active backend and why the others were not used', async () => {
    const g = await freshImport();
    const info = g.getBackend();
    console.log(`[backend] ${JSON.stringify(info)}`);
    expect(['native', 'wasm', 'js']).toContain(info.name);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.isa).toBe('string');
    // Every backend ahead of the chosen one in the auto order says why it was passed over.
    const ahead = ['native', 'wasm', 'js'].slice(0, ['native', 'wasm', 'js'].indexOf(info.name));
    for (const name of ahead) expect(info.fallbacks.some((f) => f.startsWith(`${name}:`))).toBe(true);
  });

  it('GRADCLIP_BACKEND=js forces js and still records why native and wasm are not used', async () => {
    vi.stubEnv('GRADCLIP_BACKEND', 'js');
    const g = await freshImport();
    const info = g.getBackend();
    expect(info.name).toBe('js');
    expect(info.isa).toBe('scalar');
    expect(info.fallbacks.find((f) => f.startsWith('native:'))).toBeTruthy();
    expect(info.fallbacks.find((f) => f.startsWith('wasm:'))).toBeTruthy();
    expect(g.clip_grad_norm_(new Float32Array([3, 4]), 1)).toBe(5);
  });

  it('an unknown GRADCLIP_BACKEND is not thrown at import; it is reported and auto is used', async () => {
    vi.stubEnv('GRADCLIP_BACKEND', 'cuda');
    const g = await freshImport();
    expect(g.getBackend().fallbacks.some((f) => f.includes('GRADCLIP_BACKEND=cuda ignored'))).toBe(true);
  });

  it('a bad GRADCLIP_THREADS is reported, not thrown', async () => {
    vi.stubEnv('GRADCLIP_THREADS', 'many');
    const g = await freshImport();
    expect(g.getBackend().fallbacks.some((f) => f.includes('GRADCLIP_THREADS=many ignored'))).toBe(true);
  });

  it('a GRADCLIP_ISA this CPU cannot run is reported in fallbacks (native)', () => {
    const info = backendIn({ GRADCLIP_ISA: 'avx1024', GRADCLIP_BACKEND: 'native' });
    if (info.name !== 'native') return; // no addon here: covered by the native availability test
    expect(info.fallbacks.some((f: string) => f.includes('GRADCLIP_ISA=avx1024 is not supported on this CPU'))).toBe(
      true,
    );
    expect(info.isa).not.toBe('avx1024');
  });

  it('GRADCLIP_THREADS sets the thread count of a backend with a pool', () => {
    const info = backendIn({ GRADCLIP_THREADS: '3', GRADCLIP_BACKEND: 'native' });
    if (info.name === 'native') expect(info.threads).toBe(3);
    else expect(info.threads).toBe(1);
  });

  it('setBackend switches, and names why when a backend is unavailable', async () => {
    const g = await freshImport();
    expect(g.setBackend('js').name).toBe('js');
    expect(g.getBackend().name).toBe('js');
    for (const name of ['native', 'wasm'] as const) {
      let error: unknown;
      let info: ReturnType<typeof g.getBackend> | undefined;
      try {
        info = g.setBackend(name);
      } catch (err) {
        error = err;
      }
      if (error) {
        expect((error as Error).message).toMatch(new RegExp(`^setBackend\\('${name}'\\) failed: ${name}: .+`));
        expect(g.getBackend().name).toBe('js');
      } else {
        expect(info?.name).toBe(name);
        g.setBackend('js');
      }
    }
    expect(g.setBackend('auto').name).toBe(g.getBackend().name);
  });

  it('the backend named by GRADCLIP_BACKEND for this run is the one in use', async () => {
    const forced = process.env.GRADCLIP_BACKEND;
    const g = await freshImport();
    if (forced) expect(g.getBackend().name).toBe(forced);
    if (forced === 'native' && process.env.GRADCLIP_ISA) expect(g.getBackend().isa).toBe(process.env.GRADCLIP_ISA);
    if (!forced) expect(g.getBackend().fallbacks.every((f) => !f.includes('GRADCLIP_BACKEND'))).toBe(true);
  });
});

describe('two copies of gradclip in one process (the dual-package hazard)', () => {
  // The ESM and the CommonJS build of the package, loaded side by side, in both orders.
  const script = (first: 'esm' | 'cjs') => `
    const { createRequire } = require('node:module');
    const req = createRequire(process.cwd() + '/package.json');
    (async () => {
      const load = { esm: () => import(process.cwd() + '/dist/index.js'), cjs: async () => req('./dist/index.cjs') };
      const a = await load['${first}']();
      const b = await load['${first === 'esm' ? 'cjs' : 'esm'}']();
      const out = { distinct: a !== b };
      a.setBackend('js');
      out.afterSetInA = b.getBackend().name;
      b.setBackend('wasm');
      out.afterSetInB = a.getBackend().name;
      try { b.clip_grad_norm_([new Float64Array([Infinity])], 1, 2, true); } catch (e) {
        out.crossInstanceof = e instanceof a.NonFiniteNormError && e instanceof b.NonFiniteNormError;
        out.plainErrorIsNot = !(new Error('x') instanceof a.NonFiniteNormError);
      }
      a.setBackend('auto');
      out.norm = b.clip_grad_norm_([new Float32Array([3, 4])], 1);
      console.log(JSON.stringify(out));
    })();`;
  for (const first of ['esm', 'cjs'] as const) {
    it(`${first} first: one backend choice, one NonFiniteNormError`, () => {
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script(first)], { encoding: 'utf8' }));
      expect(out).toEqual({
        distinct: true,
        afterSetInA: 'js',
        afterSetInB: 'wasm',
        crossInstanceof: true,
        plainErrorIsNot: true,
        norm: 5,
      });
    });
  }
});
