import { copyFileSync, readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

/** The .wasm files the workerd entry imports sit next to it in dist/ (built by scripts/build-wasm.mjs). */
function copyWasm(): void {
  for (const f of ['gradclip-simd.wasm', 'gradclip.wasm']) copyFileSync(`assembly/build/${f}`, `dist/${f}`);
}

/** Tells the native loader which version it belongs to (see packageRoot in src/backends/native.ts). */
const define = { __GRADCLIP_VERSION__: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) };

export default defineConfig([
  {
    // Node: ESM and CommonJS, with types.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    define,
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // No shims: they evaluate fileURLToPath(import.meta.url) at load, which throws when a user
    // bundles the ESM build into CommonJS; src/backends/native.ts finds its file in both formats.
    shims: false,
  },
  {
    // Browsers, Deno, default: wasm (embedded) and js only; nothing from Node.
    entry: { browser: 'src/browser.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    platform: 'neutral',
    target: 'es2022',
  },
  {
    // workerd / edge-light: imports the .wasm files instead of compiling bytes.
    entry: { workerd: 'src/workerd.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    platform: 'neutral',
    target: 'es2022',
    external: ['./gradclip.wasm', './gradclip-simd.wasm'],
    onSuccess: async () => copyWasm(),
  },
  {
    // gradclip/tfjs: imports the library as 'gradclip' (the entry this environment resolves, so one
    // backend state) and tfjs-core (an optional peer dependency), neither bundled.
    entry: { tfjs: 'src/tfjs.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    platform: 'neutral',
    target: 'es2022',
    external: ['gradclip', '@tensorflow/tfjs-core'],
  },
  {
    // The `gradclip` command: one self-contained ESM bundle (a program of its own, with its own backend state).
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    define,
    target: 'node20',
    sourcemap: true,
    shims: true,
  },
]);
