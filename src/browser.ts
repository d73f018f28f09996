/**
 * gradclip for browsers, Deno and other runtimes that compile wasm from bytes (the `browser`,
 * `deno` and `default` export conditions): the wasm backend (SIMD where the runtime validates
 * it, scalar otherwise) with js as the fallback. No Node built-ins, no .node file, no fetch.
 */
import { createWasmBackend, embeddedModules, preferSimd } from './backends/wasm.js';
import { scalarWasm, simdWasm } from './backends/wasm-modules.generated.js';
import { initialize, registerBackend } from './registry.js';

export * from './api.js';

registerBackend('wasm', () => createWasmBackend(embeddedModules(simdWasm, scalarWasm), preferSimd()));
initialize();
