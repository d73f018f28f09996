/**
 * gradclip — PyTorch's gradient clipping for JavaScript.
 * Node entry: registers the native and wasm backends, then picks one (GRADCLIP_BACKEND, else native → wasm → js).
 */
import { loadNative } from './backends/native.js';
import { createWasmBackend, embeddedModules, preferSimd } from './backends/wasm.js';
import { scalarWasm, simdWasm } from './backends/wasm-modules.generated.js';
import { initialize, registerBackend } from './registry.js';

export * from './api.js';

registerBackend('native', loadNative);
registerBackend('wasm', () => createWasmBackend(embeddedModules(simdWasm, scalarWasm), preferSimd()));
initialize();
