/**
 * gradclip for Cloudflare workerd and Vercel Edge (the `workerd` and `edge-light` export
 * conditions). These runtimes refuse to compile WebAssembly from bytes, so the modules are
 * imported as .wasm files (the bundler or runtime hands over a compiled WebAssembly.Module).
 */

import { createWasmBackend } from './backends/wasm.js';
import scalarModule from './gradclip.wasm';
import simdModule from './gradclip-simd.wasm';
import { initialize, registerBackend } from './registry.js';

export * from './api.js';

registerBackend('wasm', () => {
  try {
    return createWasmBackend({ simd: simdModule, scalar: scalarModule }, true);
  } catch {
    // A runtime without wasm SIMD fails to instantiate the SIMD module: use the scalar one.
    return createWasmBackend({ scalar: scalarModule }, false);
  }
});
initialize();
