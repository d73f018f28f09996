import { afterAll, expect } from 'vitest';
import { loadNative, nativeBinding } from '../../src/backends/native.js';

/** The native backend when its addon loads here, else undefined. */
export function tryNative(): ReturnType<typeof loadNative> | undefined {
  try {
    return loadNative();
  } catch {
    return undefined;
  }
}

/**
 * For identity suites (call inside a describe): the instruction sets this CPU has, and `each(check)`, which
 * runs `check` on every one of them with 1 and 2 threads and lists of any size split over threads. The
 * addon's ISA, thread count and parallel threshold are put back after the suite.
 */
export function nativeConfigs(native: unknown): { isas: string[]; each(check: (label: string) => void): void } {
  const isas = native ? nativeBinding().info().supported : [];
  const initial = native ? nativeBinding().info() : undefined;
  afterAll(() => {
    if (!initial) return;
    const b = nativeBinding();
    b.setIsa(initial.isa);
    b.setThreads(initial.threads);
    b.setParallelThreshold(initial.parallelThreshold);
  });
  return {
    isas,
    each(check) {
      if (!native) return;
      const b = nativeBinding();
      b.setParallelThreshold(0);
      for (const isa of isas) {
        expect(b.setIsa(isa)).toBe(true);
        for (const threads of [1, 2]) {
          b.setThreads(threads);
          check(`native ${isa} threads ${threads}`);
        }
      }
    },
  };
}
