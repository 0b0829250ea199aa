// Top-k masks over tensors, computed on the device with no host sync.
import * as tf from '@tensorflow/tfjs';
import { checkRatio } from '../core/check.js';
import { groupLength, type SelectionScope } from '../core/groups.js';
import { selectTopKOnDevice } from './selectOnDevice.js';
import { asTensor, checkTensor, type TensorLike } from './tensorChecks.js';

/** Options of the tensor {@link topKMask}. */
export interface TensorTopKMaskOptions {
  /** Fraction of each group's valid tokens to keep, in `(0, 1]`. */
  ratio: number;
  /** 0/1 validity `[...]`; all valid when omitted. */
  valid?: TensorLike;
  /** Selection group. @default 'batch' */
  scope?: SelectionScope;
  /** Positions per sequence `T` for `'sequence'`. @default the last axis of `scores` */
  seqLen?: number;
}

/**
 * Marks the `k = clamp(floor(ratio·n + 0.5), 1, n)` highest-scoring valid tokens of each group,
 * ties to the lower flat index: the core `topKMask`, on the device (a sort for the k-th largest
 * score, a prefix count for ties), with no host sync. Not differentiable (it is a selection).
 *
 * Shapes: `scores` `[...]` (e.g. `[B, T]`), `valid` `[...]`, result `[...]` float32 of 0/1.
 *
 * @param scores - selection scores `[...]`
 * @param options - see {@link TensorTopKMaskOptions}
 * @returns the mask, float32 `[...]`
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `BAD_RATIO`, `BAD_OPTION`
 * @example
 * ```ts
 * const mask = topKMask(tf.tensor2d([[3, 1], [2, 5]]), { ratio: 0.5, scope: 'sequence' }); // [[1, 0], [0, 1]]
 * ```
 */
export function topKMask(scores: tf.Tensor, options: TensorTopKMaskOptions): tf.Tensor {
  const fn = 'topKMask';
  checkTensor(scores, fn, 'scores');
  checkRatio(options?.ratio, fn);
  const scope = options.scope ?? 'batch';
  const seqLen = options.seqLen ?? (scope === 'sequence' ? scores.shape[scores.rank - 1] : undefined);
  const groupSize = groupLength(scores.size, scope, seqLen, fn);
  const validity =
    options.valid === undefined
      ? { tensor: tf.onesLike(scores), created: true }
      : asTensor(options.valid, scores.shape, 'float32', fn, 'valid', "same shape as 'scores'");
  try {
    return tf.tidy(() => {
      const flatScores = tf.reshape(tf.cast(scores, 'float32'), [scores.size]) as tf.Tensor1D;
      const flatValid = tf.reshape(validity.tensor, [scores.size]) as tf.Tensor1D;
      const { mask } = selectTopKOnDevice(flatScores, flatValid, options.ratio, groupSize);
      return tf.reshape(mask, scores.shape);
    });
  } finally {
    if (validity.created) validity.tensor.dispose();
  }
}
