/**
 * gradclip for Cloudflare workerd and Vercel Edge (the `workerd` and `edge-light` export
 * conditions). These runtimes refuse to compile WebAssembly from bytes, so the modules are
 * imported as .wasm files (the bundler or runtime hands over a compiled WebAssembly.Module).
 * A .wasm that fails to *compile* fails the Worker's own load, before any code of gradclip runs:
 * nothing here can catch that (README, "Backends").
 */

import { wasmFromImports } from './backends/wasm.js';
import scalarModule from './gradclip.wasm';
import simdModule from './gradclip-simd.wasm';
import { initialize, registerBackend } from './registry.js';

export * from './api.js';

registerBackend('wasm', () => wasmFromImports(simdModule, scalarModule));
initialize();
