import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  copiedPlacement,
  nativeAllocatorPools,
  placedFloat32Array,
  reserveNativeMemory,
  transientTensor,
} from '../../src/tfjs/nativeBackend.js';
import { activateBackend, testBackends } from '../helpers/backends.js';

const native = testBackends.find((config) => config.backend === 'tensorflow');
const oneDnnLinux = process.platform === 'linux' && process.arch === 'x64';

/** Minor page faults of this process so far (Linux). */
function minorFaults(): number {
  return Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[7]);
}

describe('nativeAllocatorPools', () => {
  it("is TensorFlow's oneDNN default on x86-64 Linux, off with oneDNN or its pool turned off", () => {
    expect(nativeAllocatorPools({})).toBe(oneDnnLinux);
    expect(nativeAllocatorPools({ TF_ENABLE_ONEDNN_OPTS: '1' })).toBe(oneDnnLinux);
    expect(nativeAllocatorPools({ TF_ONEDNN_USE_SYSTEM_ALLOCATOR: '0' })).toBe(oneDnnLinux);
    for (const off of ['0', 'false', 'FALSE', ' false '])
      expect(nativeAllocatorPools({ TF_ENABLE_ONEDNN_OPTS: off })).toBe(false);
    for (const on of ['1', 'true', 'True'])
      expect(nativeAllocatorPools({ TF_ONEDNN_USE_SYSTEM_ALLOCATOR: on })).toBe(false);
  });
});

describe('reserveNativeMemory', () => {
  it.runIf(native !== undefined && oneDnnLinux && nativeAllocatorPools(process.env))(
    'on tensorflow, touches the memory the next copies land in, leaving no tensor',
    async () => {
      await activateBackend(native!);
      // Larger than anything this process made before, so no pooled block can serve it already.
      const length = 48 * 2 ** 20;
      const pages = (4 * length) / 4096;
      const values = placedFloat32Array(length, copiedPlacement(length));
      values.fill(0.5); // its own pages faulted now, not during the copy
      const tensors = tf.memory().numTensors;
      let faults = minorFaults();
      reserveNativeMemory(length);
      const reserving = minorFaults() - faults;
      expect(tf.memory().numTensors).toBe(tensors);
      faults = minorFaults();
      const copied = transientTensor(values, [length]);
      const copying = minorFaults() - faults;
      expect(reserving).toBeGreaterThan(0.9 * pages);
      expect(copying).toBeLessThan(0.1 * pages);
      const last = tf.slice(copied, length - 1, 1);
      expect((await last.data())[0]).toBe(0.5);
      tf.dispose([copied, last]);
    },
  );

  it('does nothing on other backends, and for no values', async () => {
    const other = testBackends.find((config) => config.backend !== 'tensorflow')!;
    await activateBackend(other);
    const tensors = tf.memory().numTensors;
    reserveNativeMemory(1000);
    reserveNativeMemory(0);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
