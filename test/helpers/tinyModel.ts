// A bigram model small enough for exhaustive tests: logits[b, t] = table[ids[b, t]]. Each token's
// logits depend on its own input only, so micro-batches reproduce whole-batch losses bit for bit.
import * as tf from '@tensorflow/tfjs';
import type { TrainableModel } from '../../src/tfjs/index.js';

let created = 0;

/** A bigram model over `vocab` ids with seeded weights. */
export function bigramModel(vocab: number, seed = 1): TrainableModel & { table: tf.Variable } {
  created++;
  const table = tf.variable(
    tf.randomNormal([vocab, vocab], 0, 1, 'float32', seed),
    true,
    `bigram_${created}`,
  );
  return {
    table,
    forward: (ids: tf.Tensor) =>
      tf.tidy(() => {
        const flat = tf.cast(tf.oneHot(tf.reshape(ids, [-1]), vocab), 'float32');
        return tf.reshape(tf.matMul(flat, table), [...ids.shape, vocab]);
      }),
    trainableVariables: () => [table],
  };
}

/** A seeded batch of ids `[B, T]` with targets (the next id, some ignored) and reference losses. */
export function randomBatch(batch: number, seqLen: number, vocab: number, seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const ids = Int32Array.from({ length: batch * seqLen }, () => Math.floor(next() * vocab));
  const labels = Int32Array.from(ids, () => (next() < 0.1 ? -100 : Math.floor(next() * vocab)));
  const ref = Float32Array.from(ids, () => 1 + 3 * next());
  return {
    inputs: tf.tensor2d(ids, [batch, seqLen], 'int32'),
    labels: tf.tensor2d(labels, [batch, seqLen], 'int32'),
    refLoss: tf.tensor2d(ref, [batch, seqLen]),
  };
}
