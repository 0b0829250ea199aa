import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  adoptablePlacement,
  copiedPlacement,
  placedFloat32Array,
  transientTensor,
  writeToNative,
} from '../../src/tfjs/nativeBackend.js';
import { activateBackend, testBackends } from '../helpers/backends.js';

const native = testBackends.find((config) => config.backend === 'tensorflow');

/** A zero-filled array of `length` at the adoptable placement. */
const adoptable = (length: number) => placedFloat32Array(length, adoptablePlacement(length));

describe('placements', () => {
  it('give zero-filled Float32Arrays of the length asked for; small adoptable ones ordinary', () => {
    for (const length of [0, 1, 1000, 9_000_000])
      for (const placement of [adoptablePlacement, copiedPlacement]) {
        const array = placedFloat32Array(length, placement(length));
        expect(array).toBeInstanceOf(Float32Array);
        expect(array.length).toBe(length);
        expect(array.every((x) => x === 0)).toBe(true);
        expect(array.byteOffset + array.byteLength).toBeLessThanOrEqual(array.buffer.byteLength);
      }
    expect(adoptable(1000).byteOffset).toBe(0);
    expect(adoptable(9_000_000).byteOffset % 16).toBe(0);
    expect(copiedPlacement(1000).offsetBytes % 8).toBe(4);
  });

  it.runIf(native !== undefined && process.platform === 'linux')(
    'on tensorflow (glibc), a large adoptable one is adopted: TensorFlow shares it instead of copying; a copied one is copied',
    async () => {
      await activateBackend(native!);
      const shared = async (array: Float32Array) => {
        array[0] = 1;
        const tensor = tf.tensor(array);
        writeToNative(tensor);
        array[0] = 2; // seen by the tensor only if TensorFlow kept this array
        const first = tf.slice(tensor, 0, 1);
        const value = (await first.data())[0];
        tf.dispose([tensor, first]);
        return value === 2;
      };
      const adopted = [];
      for (let trial = 0; trial < 4; trial++) adopted.push(await shared(adoptable(9_000_000)));
      expect(adopted).toEqual([true, true, true, true]);
      // the same size as an ordinary array is copied: its block starts 16 bytes into a page
      expect(await shared(new Float32Array(9_000_000))).toBe(false);
      for (const length of [1000, 9_000_000])
        expect(await shared(placedFloat32Array(length, copiedPlacement(length)))).toBe(false);
    },
  );
});

describe.each(testBackends)('transientTensor on $name', (backendConfig) => {
  it('keeps the values it was made from when the array is written after, shared or not, aligned or not', async () => {
    await activateBackend(backendConfig);
    for (const length of [1000, 9_000_000])
      for (const Buffer of [ArrayBuffer, SharedArrayBuffer])
        for (const offset of [4, 0]) {
          const values = new Float32Array(new Buffer(offset + 4 * length), offset, length);
          values[0] = 1;
          values[length - 1] = 3;
          const tensor = transientTensor(values, [length]);
          values.fill(7); // the caller may overwrite it at once
          const ends = tf.concat([tf.slice(tensor, 0, 1), tf.slice(tensor, length - 1, 1)]);
          expect(
            Array.from(await ends.data()),
            `${length} values at byte ${offset} of a ${Buffer.name}`,
          ).toEqual([1, 3]);
          if (backendConfig.backend === 'tensorflow') {
            // handed to TensorFlow at once: no JavaScript array kept for it
            const backend = tf.backend() as unknown as {
              tensorMap: { get(id: object): { values: unknown } };
            };
            expect(backend.tensorMap.get(tensor.dataId)!.values).toBeNull();
          }
          tf.dispose([tensor, ends]);
        }
  });
});
