/**
 * gradclip for browsers, Deno and other runtimes that compile wasm from bytes (the `browser`,
 * `deno` and `default` export conditions): the wasm SIMD backend with js as the fallback. No Node
 * built-ins, no .node file, no fetch, no await. Only the SIMD module is embedded (the scalar one
 * would add ~12 kB of base64 that every engine with wasm SIMD — all current browsers, Deno — never
 * uses); an engine without wasm SIMD gets the js backend, which gives the same bits, and
 * getBackend().fallbacks says why.
 */
import { createWasmBackend, fromBase64, preferSimd } from './backends/wasm.js';
import { simdWasm } from './backends/wasm-modules.generated.js';
import { initialize, registerBackend } from './registry.js';

export * from './api.js';

registerBackend('wasm', () => {
  if (typeof WebAssembly === 'undefined') throw new Error('this runtime has no WebAssembly');
  if (!preferSimd()) throw new Error('GRADCLIP_WASM=scalar: the browser build has only the SIMD module');
  const bytes = fromBase64(simdWasm);
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      'this engine has no wasm SIMD (Safari before 16.4, say), and the browser build embeds only the SIMD module; ' +
        "the js backend gives the same results (Node's entry and the workerd entry have the scalar module too)",
    );
  }
  return createWasmBackend({ simd: new WebAssembly.Module(bytes) }, true);
});
initialize();
