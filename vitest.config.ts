import { defineConfig } from 'vitest/config';

export default defineConfig({
  // src/tfjs.ts imports the library as 'gradclip' (so the published subpath shares the main entry's
  // state); in the tests that is the source, the same module the other suites import.
  resolve: { alias: [{ find: /^gradclip$/, replacement: new URL('./src/index.ts', import.meta.url).pathname }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
