// A float32 tensor written in equal pieces, one after another (as normalPieces yields a weight), so
// that no array the size of the whole tensor is made in JavaScript. On the CPU of the native
// `tensorflow` backend each piece goes straight into the tensor's TensorFlow memory: TensorFlow's
// InplaceUpdate writes one row of a `[pieces, pieceSize]` tensor, and a reshape, which shares that
// memory, gives the tensor. Elsewhere the pieces fill one array.
import * as tf from '@tensorflow/tfjs';
import { elementCount } from '../core/shape.js';
import {
  activeNativeBackend,
  type NativeAttribute,
  type NativeBackend,
  typeAttribute,
  writeToNative,
} from './nativeBackend.js';

/** A tensor being written piece by piece: `write` every piece once, then `finish` (or `discard`). */
export interface PiecewiseTensor {
  /** Writes piece `index` from the first `pieceSize` values of `piece`, copied now (reuse it after). */
  write(index: number, piece: Float32Array): void;
  /** The tensor, once every piece is written. Nothing may be called after. */
  finish(): tf.Tensor;
  /** Frees what an unfinished tensor holds. Nothing may be called after. */
  discard(): void;
}

/**
 * A float32 tensor of `shape` to write in `pieces` equal pieces, consecutive in row-major order.
 *
 * @param shape - the tensor's shape; its size a multiple of `pieces`
 * @param pieces - how many pieces
 */
export function piecewiseTensor(shape: number[], pieces: number): PiecewiseTensor {
  const size = elementCount(shape);
  const pieceSize = size / pieces;
  if (!Number.isInteger(pieceSize))
    throw new RangeError(`piecewiseTensor: ${pieces} pieces do not divide a tensor of shape [${shape}]`);
  const backend = activeNativeBackend();
  return backend === undefined || backend.isUsingGpuDevice
    ? hostTensor(shape, size, pieceSize)
    : nativeTensor(backend, shape, pieces, pieceSize);
}

/** The pieces in one array, a tensor of it at the end (handed to TensorFlow at once on its GPU). */
function hostTensor(shape: number[], size: number, pieceSize: number): PiecewiseTensor {
  const values = new Float32Array(size);
  return {
    write: (index, piece) => values.set(piece.subarray(0, pieceSize), index * pieceSize),
    finish: () => {
      const tensor = tf.tensor(values, shape, 'float32');
      writeToNative(tensor);
      return tensor;
    },
    discard: () => {},
  };
}

/** The pieces written into TensorFlow's memory, one InplaceUpdate each. */
function nativeTensor(
  backend: NativeBackend,
  shape: number[],
  pieces: number,
  pieceSize: number,
): PiecewiseTensor {
  const binding = backend.binding;
  const run = (op: string, attributes: NativeAttribute[], inputs: number[]) =>
    binding.executeOp(op, attributes, inputs, 1)[0]!;
  // Runs `use` on native tensors made for it, deleted after.
  const using = <T>(ids: number[], use: (ids: number[]) => T): T => {
    try {
      return use(ids);
    } finally {
      for (const id of ids) binding.deleteTensor(id);
    }
  };
  const int32Tensor = (values: number[]) =>
    binding.createTensor([values.length], binding.TF_INT32, Int32Array.from(values));
  const float = typeAttribute(backend, 'T', binding.TF_FLOAT);
  const rows = using([int32Tensor([pieces, pieceSize])], ([dims]) =>
    run(
      'Empty',
      [
        typeAttribute(backend, 'dtype', binding.TF_FLOAT),
        { name: 'init', type: binding.TF_ATTR_BOOL, value: false }, // every value is written
      ],
      [dims!],
    ),
  ).id;
  return {
    write: (index, piece) =>
      using(
        [
          int32Tensor([index]),
          binding.createTensor([1, pieceSize], binding.TF_FLOAT, piece.subarray(0, pieceSize)),
        ],
        ([at, values]) => binding.deleteTensor(run('InplaceUpdate', [float], [rows, at!, values!]).id),
      ),
    finish: () =>
      using([rows, int32Tensor(shape)], ([all, dims]) =>
        backend.createOutputTensor(
          run('Reshape', [float, typeAttribute(backend, 'Tshape', binding.TF_INT32)], [all!, dims!]),
        ),
      ),
    discard: () => binding.deleteTensor(rows),
  };
}
