import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM and CommonJS, with types.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    shims: true,
  },
  {
    // The `gradclip` command: one self-contained ESM bundle (a program of its own, with its own backend state).
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    target: 'node20',
    sourcemap: true,
    shims: true,
  },
]);
