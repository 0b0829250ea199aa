// The tfjs backends every tfjs test runs on. WebGPU joins when RHO_SLM_TEST_WEBGPU=1 (CI sets it
// after unpacking software Vulkan); when it was asked for and cannot start, the suite says so loudly.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { type BackendName, silenceNodeBanner, useBackend } from '../../src/tfjs/index.js';

/** Backends available in this test run. */
export const testBackends: BackendName[] = ['cpu', 'wasm'];

if (process.env.RHO_SLM_TEST_WEBGPU === '1') {
  try {
    await useBackend('webgpu');
    testBackends.push('webgpu');
  } catch (error) {
    console.error(`\n!!! WebGPU tests requested but SKIPPED: ${(error as Error).message}\n`);
  }
}

/** Activates `backend` for the tests that follow. */
export async function activateBackend(backend: BackendName): Promise<void> {
  silenceNodeBanner();
  await tf.setBackend(backend);
  await tf.ready();
  silenceNodeBanner();
}
