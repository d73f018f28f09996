// The reduction-order constants of SPEC §6 for the wasm kernels; they change only together
// with src/backends/backend.ts, native/kernels/contract.h and test/reduction-order.test.ts.
export const BLOCK: i32 = 65536;
export const LANES: i32 = 32;
