import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
// A plain .mjs shared with the runtime harness (Chromium, Deno, Bun, workerd).
import { nanBitsCases } from './runtimes/checks.mjs';

// SPEC §6, NaN: every NaN gradclip writes is the canonical quiet NaN of the dtype (0x7fc00000,
// 0x7ff8000000000000), whatever payload or sign the hardware or the engine's JIT tier would have
// produced; an element gradclip does not change keeps its bits. 20,000 calls per case, past the
// point where V8's tiers changed the js backend's bits (~1,800 calls) and wasm's (~3,800).
// Runs on whichever backend (and ISA) this pass of `npm test` forces.
describe('NaN bits', () => {
  const name = g.getBackend().name;
  it(`${name}/${g.getBackend().isa}: canonical NaNs written, NaNs left alone keep their bits, over 20,000 calls`, () => {
    const { failures, bits } = nanBitsCases(g, [name], 20000);
    expect(failures).toEqual([]);
    // The canonical NaNs, and the four NaNs clamping left alone (signalling and negative ones).
    expect(bits).toEqual(
      ['7fc00000', '7ff8000000000000', 'ffc12345', 'fff8000000012345', '7f800001', '7ff0000000000001'].sort(),
    );
  });
});
