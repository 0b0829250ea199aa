// The playground's backend: WebGPU where the browser has a hardware adapter, else wasm served from
// the page itself (the binaries are inlined, so a static site needs no extra files), else cpu.

import { WASM_PLAIN, WASM_SIMD } from 'virtual:wasm-binaries';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type BackendName, useBackend } from '../src/tfjs/backend.js';

/** A `blob:` URL for base64-encoded wasm. */
function wasmUrl(base64: string): string {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: 'application/wasm' }));
}

/** Loads the backends the page bundles, for `useBackend`'s `importModule`. */
async function importBundled(specifier: string): Promise<unknown> {
  if (specifier === '@tensorflow/tfjs-backend-webgpu') return import('@tensorflow/tfjs-backend-webgpu');
  if (specifier === '@tensorflow/tfjs-backend-wasm') return import('@tensorflow/tfjs-backend-wasm');
  throw new Error(`${specifier} is not part of the playground`);
}

/** Activates the fastest backend this browser offers and returns its name. */
export async function chooseBackend(): Promise<BackendName> {
  const simd = wasmUrl(WASM_SIMD);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmUrl(WASM_PLAIN),
    'tfjs-backend-wasm-simd.wasm': simd,
    'tfjs-backend-wasm-threaded-simd.wasm': simd, // threads need cross-origin isolation; never chosen here
  });
  const { backend } = await useBackend('auto', { importModule: importBundled, env: {} });
  return backend;
}
