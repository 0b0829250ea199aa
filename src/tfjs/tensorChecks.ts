// Boundary validation for tensor arguments: SLMErrors that name function, argument and shapes.
import * as tf from '@tensorflow/tfjs';
import { checkArrayLike, type NumericArray } from '../core/check.js';
import { SLMError } from '../core/errors.js';
import { checkLabelValues } from '../core/labels.js';
import { elementCount } from '../core/shape.js';

/** A tensor, or host numbers that become one. */
export type TensorLike = tf.Tensor | ArrayLike<number>;

/** Throws BAD_TYPE unless `value` is a live tf.Tensor. */
export function checkTensor(value: unknown, fn: string, arg: string): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new SLMError(
      'BAD_TYPE',
      `Argument '${arg}' passed to '${fn}' must be a tf.Tensor, got ${typeof value}.`,
    );
  }
  if (value.isDisposed) {
    throw new SLMError('BAD_TYPE', `Argument '${arg}' passed to '${fn}' is a disposed tf.Tensor.`);
  }
}

/** Throws SHAPE_MISMATCH unless `shape` equals `expected`. */
export function checkShape(
  shape: readonly number[],
  expected: readonly number[],
  fn: string,
  arg: string,
  what: string,
): void {
  if (shape.length !== expected.length || shape.some((size, axis) => size !== expected[axis])) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `Argument '${arg}' passed to '${fn}' has shape [${shape.join(', ')}], expected [${expected.join(', ')}] (${what}).`,
    );
  }
}

/**
 * Returns `value` as a tensor of `shape` and `dtype` (a new tensor the caller disposes when
 * `created`), checking its shape.
 */
export function asTensor(
  value: unknown,
  shape: readonly number[],
  dtype: 'float32' | 'int32',
  fn: string,
  arg: string,
  what: string,
): { tensor: tf.Tensor; created: boolean } {
  if (value instanceof tf.Tensor) {
    checkTensor(value, fn, arg);
    checkShape(value.shape, shape, fn, arg, what);
    if (value.dtype === dtype) return { tensor: value, created: false };
    return { tensor: tf.cast(value, dtype), created: true };
  }
  checkArrayLike(value, fn, arg);
  const size = elementCount(shape);
  if (value.length !== size) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `Argument '${arg}' passed to '${fn}' has length ${value.length}, expected ${size} (${what}, shape [${shape.join(', ')}]).`,
    );
  }
  const data =
    dtype === 'int32'
      ? Int32Array.from(value as ArrayLike<number>)
      : Float32Array.from(value as ArrayLike<number>);
  return { tensor: tf.tensor(data, [...shape], dtype), created: true };
}

/** Throws BAD_TYPE unless `value` is a live int32 tensor (a float tensor cast to int32 would truncate 1.6 to 1). */
export function checkLabelTensor(value: unknown, fn: string, arg: string): asserts value is tf.Tensor {
  checkTensor(value, fn, arg);
  if (value.dtype !== 'int32') {
    throw new SLMError(
      'BAD_TYPE',
      `Argument '${arg}' passed to '${fn}' must be an int32 tensor of token ids, got ${value.dtype}; create it with dtype 'int32'.`,
    );
  }
}

/**
 * Checks labels at the boundary, the same in every validate mode: a label tensor must be int32
 * (`BAD_TYPE`), host labels must each be `ignoreIndex` or an integer in `[0, V)`
 * (`LABEL_OUT_OF_RANGE`, as the core). An int32 tensor's values are checked on the device (see
 * `readSelectionStats`), not here.
 */
export function checkLabels(
  labels: unknown,
  vocab: number,
  ignoreIndex: number,
  fn: string,
  arg: string,
): void {
  if (labels instanceof tf.Tensor) {
    checkLabelTensor(labels, fn, arg);
    return;
  }
  checkArrayLike(labels, fn, arg);
  checkLabelValues(labels as NumericArray, vocab, ignoreIndex, fn);
}
