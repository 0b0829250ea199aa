// The wasm backend's binaries, inlined as base64 by scripts/build-playground.mjs.
declare module 'virtual:wasm-binaries' {
  /** tfjs-backend-wasm-simd.wasm, base64. */
  export const WASM_SIMD: string;
  /** tfjs-backend-wasm.wasm (no SIMD), base64. */
  export const WASM_PLAIN: string;
}
