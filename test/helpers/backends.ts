// The tfjs configurations every tfjs test runs on: cpu and wasm, each with the host kernels and
// with tensor ops; the native `tensorflow` backend when @tensorflow/tfjs-node loads (required, and
// a failure, when RHO_SLM_TEST_TENSORFLOW=1: CI sets it after scripts/setup-native.mjs); plus WebGPU
// when RHO_SLM_TEST_WEBGPU=1 (CI sets it after unpacking software Vulkan); when WebGPU was asked for
// and cannot start, the suite says so loudly.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { type BackendName, silenceNodeBanner, useBackend, useHostKernels } from '../../src/tfjs/index.js';

/** One backend and token-loss kernel choice. */
export interface TestBackend {
  /** Readable name for test titles. */
  name: string;
  /** The tfjs backend. */
  backend: BackendName;
  /** Whether token losses use the host kernels (cpu and wasm only). */
  hostKernels: boolean;
}

/** Configurations available in this test run. */
export const testBackends: TestBackend[] = [
  { name: 'cpu (host kernels)', backend: 'cpu', hostKernels: true },
  { name: 'cpu (tensor ops)', backend: 'cpu', hostKernels: false },
  { name: 'wasm (host kernels)', backend: 'wasm', hostKernels: true },
  { name: 'wasm (tensor ops)', backend: 'wasm', hostKernels: false },
];

try {
  await useBackend('tensorflow');
  testBackends.push({ name: 'tensorflow', backend: 'tensorflow', hostKernels: false });
} catch (error) {
  if (process.env.RHO_SLM_TEST_TENSORFLOW === '1') throw error;
  console.error(`\n(native tensorflow backend not set up, its tests are off: ${(error as Error).message})\n`);
}

if (process.env.RHO_SLM_TEST_WEBGPU === '1') {
  try {
    await useBackend('webgpu');
    testBackends.push({ name: 'webgpu', backend: 'webgpu', hostKernels: false });
  } catch (error) {
    console.error(`\n!!! WebGPU tests requested but SKIPPED: ${(error as Error).message}\n`);
  }
}

/** Activates a configuration for the tests that follow. */
export async function activateBackend(config: TestBackend): Promise<void> {
  silenceNodeBanner();
  await tf.setBackend(config.backend);
  await tf.ready();
  silenceNodeBanner();
  useHostKernels(config.hostKernels);
}
