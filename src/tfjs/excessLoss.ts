// Excess loss over tensors.
import * as tf from '@tensorflow/tfjs';
import { asTensor, checkTensor, type TensorLike } from './tensorChecks.js';

/**
 * Excess loss `modelLoss − refLoss`, signed, as a tensor; `0` where `valid` is 0. The reference
 * loss is a constant of training (differentiate with respect to the model's loss or logits).
 *
 * Shapes: `modelLoss` `[...]`, `refLoss` `[...]`, `valid` `[...]`, result `[...]`.
 *
 * @param modelLoss - current per-token loss `[...]`
 * @param refLoss - reference per-token loss `[...]` (tensor or host array)
 * @param valid - optional 0/1 token mask `[...]`
 * @returns excess loss `[...]` float32
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`
 * @example
 * ```ts
 * const excess = excessLoss(tokenLoss(logits, labels), refLoss);
 * ```
 */
export function excessLoss(modelLoss: tf.Tensor, refLoss: TensorLike, valid?: TensorLike): tf.Tensor {
  const fn = 'excessLoss';
  checkTensor(modelLoss, fn, 'modelLoss');
  const reference = asTensor(refLoss, modelLoss.shape, 'float32', fn, 'refLoss', "same shape as 'modelLoss'");
  const validity =
    valid === undefined
      ? undefined
      : asTensor(valid, modelLoss.shape, 'float32', fn, 'valid', "same shape as 'modelLoss'");
  try {
    return tf.tidy(() => {
      const excess = tf.sub(modelLoss, reference.tensor);
      return validity === undefined
        ? excess
        : tf.where(tf.cast(validity.tensor, 'bool'), excess, tf.zerosLike(excess));
    });
  } finally {
    if (reference.created) reference.tensor.dispose();
    if (validity?.created) validity.tensor.dispose();
  }
}
