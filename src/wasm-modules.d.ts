// The .wasm imports of src/workerd.ts: workerd and edge-light hand over compiled modules.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
