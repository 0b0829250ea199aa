import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeNativeBackend, type NativeBinding } from '../../src/tfjs/nativeBackend.js';
import { piecewiseTensor } from '../../src/tfjs/piecewiseTensor.js';
import { activateBackend, testBackends } from '../helpers/backends.js';

/** Writes pieces 2, 0, 1 of [0, 1, …, 23] as a [6, 4] tensor from one array reused (and spoiled) after each. */
function writePieces(tensor: ReturnType<typeof piecewiseTensor>): void {
  const piece = new Float32Array(new ArrayBuffer(40), 4, 8); // 4 bytes past an 8-byte boundary, as normalPieces yields
  for (const index of [2, 0, 1]) {
    piece.set(Array.from({ length: 8 }, (_, i) => 8 * index + i));
    tensor.write(index, piece);
    piece.fill(Number.NaN);
  }
}

describe.each(testBackends)('piecewiseTensor on $name', (backendConfig) => {
  beforeAll(() => activateBackend(backendConfig));

  it('assembles a tensor from pieces written in any order, copied at once, leaking no tensor', async () => {
    const before = tf.memory().numTensors;
    const pieces = piecewiseTensor([6, 4], 3);
    writePieces(pieces);
    const tensor = pieces.finish();
    expect(tensor.shape).toEqual([6, 4]);
    expect(tensor.dtype).toBe('float32');
    expect(Array.from(await tensor.data())).toEqual(Array.from({ length: 24 }, (_, i) => i));
    tensor.dispose();
    piecewiseTensor([2, 3], 2).discard();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => piecewiseTensor([5, 4], 3)).toThrow(/3 pieces do not divide a tensor of shape \[5,4\]/);
  });
});

describe.runIf(testBackends.some((config) => config.backend === 'tensorflow'))(
  'piecewiseTensor on the CPU of the native backend',
  () => {
    it("writes the pieces into TensorFlow's memory (Empty, an InplaceUpdate each, Reshape) and frees every native tensor", async () => {
      await activateBackend(testBackends.find((config) => config.backend === 'tensorflow')!);
      const backend = activeNativeBackend()!;
      const binding = backend.binding;
      const ops: string[] = [];
      const live = new Set<number>();
      // The binding's functions are read-only: a stand-in that inherits from it counts the calls.
      const counting = Object.create(binding) as NativeBinding;
      Object.defineProperties(counting, {
        createTensor: {
          value: (...args: Parameters<NativeBinding['createTensor']>) => {
            const id = binding.createTensor(...args);
            live.add(id);
            return id;
          },
        },
        executeOp: {
          value: (...args: Parameters<NativeBinding['executeOp']>) => {
            ops.push(args[0]);
            const outputs = binding.executeOp(...args);
            for (const { id } of outputs) live.add(id);
            return outputs;
          },
        },
        deleteTensor: {
          value: (id: number) => {
            live.delete(id);
            binding.deleteTensor(id);
          },
        },
      });
      backend.binding = counting;
      try {
        const pieces = piecewiseTensor([6, 4], 3);
        writePieces(pieces);
        const tensor = pieces.finish();
        expect(live.size, 'the tensor alone').toBe(1);
        expect(Array.from(await tensor.data())).toEqual(Array.from({ length: 24 }, (_, i) => i));
        tensor.dispose();
        piecewiseTensor([2, 3], 2).discard();
      } finally {
        backend.binding = binding;
      }
      expect(ops).toEqual(['Empty', 'InplaceUpdate', 'InplaceUpdate', 'InplaceUpdate', 'Reshape', 'Empty']);
      expect(live.size).toBe(0);
    });
  },
);
