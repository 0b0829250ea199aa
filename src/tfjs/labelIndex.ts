// Integer labels resolved against a vocabulary: which rows are tokens, which are in range, and
// where each label's logit sits in the flattened logits.
import * as tf from '@tensorflow/tfjs';

/** Labels `[N]` resolved against the vocabulary: what the loss and its gradient index with. */
export interface LabelIndex {
  /** 1 where the label is a token (not `ignoreIndex`), `[N]` float32. */
  valid: tf.Tensor1D;
  /** 1 where the label is a token inside `[0, V)`, `[N]` float32. */
  inRange: tf.Tensor1D;
  /** `(i, label)` (label 0 where not in range), `[N, 2]` int32: each row's label position in the logits. */
  position: tf.Tensor2D;
  /** The label where in range, 0 elsewhere, `[N]` int32. */
  label: tf.Tensor1D;
}

/** Resolves int32 labels `[N]` for a vocabulary of `vocab` (caller disposes, or runs in a tidy). */
export function indexLabels(labels: tf.Tensor1D, vocab: number, ignoreIndex: number): LabelIndex {
  const tokenCount = labels.shape[0];
  const valid = tf.notEqual(labels, ignoreIndex);
  const inRange = tf.logicalAnd(valid, tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, vocab)));
  const safeLabels = tf.where(inRange, labels, tf.zerosLike(labels));
  return {
    valid: tf.cast(valid, 'float32') as tf.Tensor1D,
    inRange: tf.cast(inRange, 'float32') as tf.Tensor1D,
    position: tf.stack([tf.range(0, tokenCount, 1, 'int32'), safeLabels], 1) as tf.Tensor2D,
    label: safeLabels as tf.Tensor1D,
  };
}

/**
 * The contract's per-row loss from the raw `logsumexp − logit[label]` rows `[N]`: the raw value on
 * tokens in range, NaN for a label outside `[0, V)` (reported by the stats), 0 where not a token.
 */
export function tokenRowLoss(rawLoss: tf.Tensor1D, index: LabelIndex): tf.Tensor1D {
  return tf.where(
    tf.cast(index.valid, 'bool'),
    tf.where(tf.cast(index.inRange, 'bool'), rawLoss, tf.fill(rawLoss.shape, Number.NaN)),
    tf.zerosLike(rawLoss),
  ) as tf.Tensor1D;
}
