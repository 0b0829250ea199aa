// Top-k selection on the device, with no host sync: k per group from a table of the exact
// (double-precision) rounding rule, the k-th largest score from a sort, ties by a prefix count.
import * as tf from '@tensorflow/tfjs';
import { selectionCount } from '../core/topKMask.js';

const kTables = new Map<string, tf.Tensor1D>();
const MAX_CACHED_TABLES = 8;

/** `k` for every valid count `n ∈ [0, groupSize]`, computed on the host in doubles, cached on the device. */
function selectionCountTable(ratio: number, groupSize: number): tf.Tensor1D {
  const key = `${tf.getBackend()}:${ratio}:${groupSize}`;
  const cached = kTables.get(key);
  if (cached !== undefined && !cached.isDisposed) return cached;
  if (kTables.size >= MAX_CACHED_TABLES) {
    const [oldestKey, oldest] = kTables.entries().next().value as [string, tf.Tensor1D];
    oldest.dispose();
    kTables.delete(oldestKey);
  }
  const counts = Int32Array.from({ length: groupSize + 1 }, (_, n) => selectionCount(n, ratio));
  const table = tf.keep(tf.tensor1d(counts, 'int32'));
  kTables.set(key, table);
  return table;
}

/** Result of {@link selectTopKOnDevice}: both tensors owned by the caller. */
export interface DeviceSelection {
  /** 1 for selected tokens, 0 elsewhere, `[N]` float32. */
  mask: tf.Tensor1D;
  /** Smallest score among selected tokens (`+Infinity` when none), scalar. */
  threshold: tf.Scalar;
}

/**
 * Marks the `k = selectionCount(n_g, ratio)` highest-scoring valid tokens of each group of
 * `groupSize` consecutive positions, ties to the lower index, exactly as the core `topKMask`.
 * Shapes: `scores` `[N]`, `valid` `[N]` (0/1 float32), `N` a multiple of `groupSize`.
 */
export function selectTopKOnDevice(
  scores: tf.Tensor1D,
  valid: tf.Tensor1D,
  ratio: number,
  groupSize: number,
): DeviceSelection {
  const total = scores.shape[0];
  if (total === 0) return { mask: tf.zeros([0]), threshold: tf.scalar(Number.POSITIVE_INFINITY) };
  const table = selectionCountTable(ratio, groupSize);
  return tf.tidy(() => {
    const groups = total / groupSize;
    const isValid = tf.cast(tf.reshape(valid, [groups, groupSize]), 'bool'); // [G, S]
    const grouped = tf.where(
      isValid,
      tf.reshape(scores, [groups, groupSize]),
      tf.fill([groups, groupSize], -Infinity),
    );
    const validCount = tf.sum(tf.cast(isValid, 'int32'), 1); // [G]
    const keep = tf.gather(table, validCount); // [G] int32
    const sorted = tf.topk(grouped, groupSize).values; // [G, S], descending
    const cutIndex = tf.add(
      tf.mul(tf.range(0, groups, 1, 'int32'), tf.scalar(groupSize, 'int32')),
      tf.maximum(tf.sub(keep, tf.scalar(1, 'int32')), tf.scalar(0, 'int32')),
    );
    const cut = tf.expandDims(tf.gather(tf.reshape(sorted, [-1]), cutIndex), 1); // [G, 1]
    const above = tf.logicalAnd(isValid, tf.greater(grouped, cut));
    const missing = tf.sub(keep, tf.sum(tf.cast(above, 'int32'), 1)); // [G]
    const tied = tf.logicalAnd(isValid, tf.equal(grouped, cut));
    const tieRank = tf.cumsum(tf.cast(tied, 'float32'), 1); // 1, 2, … along each row
    const tieKept = tf.logicalAnd(tied, tf.lessEqual(tieRank, tf.expandDims(tf.cast(missing, 'float32'), 1)));
    const hasSelection = tf.greater(keep, 0);
    const selected = tf.logicalAnd(tf.logicalOr(above, tieKept), tf.expandDims(hasSelection, 1));
    const threshold = tf.min(
      tf.where(hasSelection, tf.squeeze(cut, [1]), tf.fill([groups], Number.POSITIVE_INFINITY)),
    );
    return {
      mask: tf.reshape(tf.cast(selected, 'float32'), [total]) as tf.Tensor1D,
      threshold: threshold as tf.Scalar,
    };
  });
}

/**
 * Soft weights on the device: per group, `w_i = n_g · softmax(s/τ)_i` over valid tokens, 0
 * elsewhere (see the core `softSelectionWeights`). Shapes as {@link selectTopKOnDevice}.
 */
export function softWeightsOnDevice(
  scores: tf.Tensor1D,
  valid: tf.Tensor1D,
  temperature: number,
  groupSize: number,
): tf.Tensor1D {
  const total = scores.shape[0];
  if (total === 0) return tf.zeros([0]);
  return tf.tidy(() => {
    const groups = total / groupSize;
    const validGrid = tf.reshape(valid, [groups, groupSize]);
    const isValid = tf.cast(validGrid, 'bool');
    const logits = tf.where(
      isValid,
      tf.div(tf.reshape(scores, [groups, groupSize]), temperature),
      tf.fill([groups, groupSize], -Infinity),
    );
    const validCount = tf.sum(validGrid, 1, true); // [G, 1]
    const probabilities = tf.where(isValid, tf.softmax(logits), tf.zerosLike(logits));
    return tf.reshape(tf.mul(probabilities, validCount), [total]) as tf.Tensor1D;
  });
}
