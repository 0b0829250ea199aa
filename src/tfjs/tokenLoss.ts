// Per-token cross-entropy over tensors with a fused custom gradient: (softmax − onehot)·dy, built
// without a [N, V] one-hot and without gather's gradient (tfjs-backend-wasm lacks its kernel).
import * as tf from '@tensorflow/tfjs';
import { SLMError } from '../core/errors.js';
import { DEFAULT_IGNORE_INDEX } from '../core/labels.js';
import { elementCount } from '../core/shape.js';
import { customGradient } from './customGradient.js';
import { hostKernelsActive, hostTokenLossRows } from './hostKernels.js';
import { indexLabels, type LabelIndex, tokenRowLoss } from './labelIndex.js';
import { asTensor, checkLabels, checkTensor, type TensorLike } from './tensorChecks.js';
import { registerWasmKernels } from './wasmKernels.js';

/** Options of {@link tokenLoss}. */
export interface TensorTokenLossOptions {
  /** Label value that marks a position as not a token (loss 0, no gradient). @default -100 */
  ignoreIndex?: number;
}

/**
 * Loss rows `[N]` from logits `[N, V]`: `logsumexp(x) − x[label]` for tokens, 0 for `ignoreIndex`,
 * NaN for a label outside `[0, V)`. The gradient with respect to the logits is
 * `dy · (softmax(x) − onehot(label))` on tokens in range, 0 elsewhere.
 */
export function tokenLossRows(logits: tf.Tensor2D, index: LabelIndex): tf.Tensor1D {
  registerWasmKernels(); // saving the logits for the gradient then shares them instead of copying
  if (hostKernelsActive()) return hostTokenLossRows(logits, index);
  const lossWithGrad = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits2d, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const logSumExp = tf.logSumExp(logits2d, 1);
    const labelLogit = tf.gatherND(logits2d, index.position) as tf.Tensor1D; // [N]
    const loss = tokenRowLoss(tf.sub(logSumExp, labelLogit) as tf.Tensor1D, index);
    save([logits2d, logSumExp, index.inRange, index.position]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedLogits, savedLogSumExp, savedInRange, savedPosition] = saved as [
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor2D,
        ];
        const rowWeight = tf.mul(dy as tf.Tensor1D, savedInRange); // [N]
        // At most two [N, V] tensors at a time: each is freed as soon as the next one exists.
        const shifted = tf.sub(savedLogits, tf.expandDims(savedLogSumExp, 1)); // [N, V]
        const probabilities = tf.exp(shifted); // [N, V]
        shifted.dispose();
        const scaled = tf.mul(probabilities, tf.expandDims(rowWeight, 1)); // [N, V]
        probabilities.dispose();
        const atLabel = tf.sub(tf.gatherND(scaled, savedPosition), rowWeight); // [N]
        const updated = tf.tensorScatterUpdate(scaled, savedPosition, atLabel); // [N, V]
        scaled.dispose();
        return updated;
      },
    };
  });
  return lossWithGrad(logits) as tf.Tensor1D;
}

/**
 * Per-token cross-entropy over tensors: `loss = logsumexp(logits[..., :]) − logits[..., label]`,
 * `0` where `labels === ignoreIndex`; differentiable with respect to `logits` through a fused
 * custom gradient `dy · (softmax − onehot)` that never materialises a one-hot `[N, V]` tensor and
 * never uses `tf.gather`'s gradient, so it runs on every backend (cpu, wasm, webgl, webgpu,
 * tensorflow). Host-array labels are checked here (integers in range); a label tensor must be
 * int32 and is not read (no host sync): an out-of-range label gives a NaN loss, which
 * {@link selectiveLoss} reports.
 *
 * Shapes: `logits` `[..., V]` (e.g. `[B, T, V]`), `labels` `[...]` (e.g. `[B, T]`), result `[...]`.
 *
 * @param logits - unnormalised scores, `[..., V]`
 * @param labels - target ids in `[0, V)` or `ignoreIndex`, `[...]` (int32 tensor or host array)
 * @param options - see {@link TensorTokenLossOptions}
 * @returns per-token losses in nats, float32, `[...]`
 * @throws {@link SLMError} `BAD_TYPE` (also for a label tensor that is not int32), `SHAPE_MISMATCH`,
 *   `LABEL_OUT_OF_RANGE` (host labels)
 * @example
 * ```ts
 * const loss = tokenLoss(logits, labels);           // [B, T]
 * const grad = tf.grad((x) => tokenLoss(x, labels).sum())(logits);
 * ```
 */
export function tokenLoss(
  logits: tf.Tensor,
  labels: TensorLike,
  options: TensorTokenLossOptions = {},
): tf.Tensor {
  const fn = 'tokenLoss';
  checkTensor(logits, fn, 'logits');
  if (logits.rank < 1 || logits.shape[logits.rank - 1] === 0) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `Argument 'logits' passed to '${fn}' has shape [${logits.shape}], expected [..., V] with V ≥ 1.`,
    );
  }
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const vocab = logits.shape[logits.rank - 1]!;
  const batchShape = logits.shape.slice(0, -1);
  checkLabels(labels, vocab, ignoreIndex, fn, 'labels');
  const { tensor: labelTensor, created } = asTensor(
    labels,
    batchShape,
    'int32',
    fn,
    'labels',
    'one label per row of logits',
  );
  try {
    return tf.tidy(() => {
      const tokenCount = elementCount(batchShape);
      const index = indexLabels(tf.reshape(labelTensor, [tokenCount]), vocab, ignoreIndex);
      // no reshape when already [N, V]: on tensorflow a reshape is a second handle on the buffer
      const rows = tokenLossRows(
        (logits.rank === 2 ? logits : tf.reshape(logits, [tokenCount, vocab])) as tf.Tensor2D,
        index,
      );
      return tf.reshape(rows, batchShape);
    });
  } finally {
    if (created) labelTensor.dispose();
  }
}
