// The SLM objective over tensors: select on the device, average the model loss over the selection,
// differentiate through the token losses only.
import * as tf from '@tensorflow/tfjs';
import { throwMissingOption } from '../core/check.js';
import { groupLength } from '../core/groups.js';
import { strategyNeedsReference } from '../core/selectionScores.js';
import {
  type ResolvedSelection,
  resolveSelection,
  type SelectionOptions,
} from '../core/selectionSettings.js';
import { elementCount } from '../core/shape.js';
import { indexLabels } from './labelIndex.js';
import { scoresOnDevice } from './scoresOnDevice.js';
import { readSelectionStatsSync } from './selectionStats.js';
import { selectTopKOnDevice, softWeightsOnDevice } from './selectOnDevice.js';
import { asTensor, checkLabels, checkTensor, type TensorLike } from './tensorChecks.js';
import { tokenLossRows } from './tokenLoss.js';

/** Options of {@link selectiveLoss}. */
export interface TensorSelectiveLossOptions extends SelectionOptions {
  /**
   * Read the stats once (a synchronous transfer of 8 numbers) and throw on labels out of range or
   * non-finite losses. Turn off inside training loops that check with `readSelectionStats` (as
   * `createTrainStep` does). Backends without synchronous reads (WebGPU in Node) always skip it:
   * there, `await readSelectionStats(result.stats)` does the check. @default true
   */
  validate?: boolean;
}

/** Result of {@link selectiveLoss}; every tensor is the caller's to dispose. */
export interface TensorSelectiveLossResult {
  /** The SLM loss, scalar, differentiable with respect to the logits. */
  loss: tf.Scalar;
  /** 1 for selected tokens (valid tokens with `output: 'weights'`), `[...]` float32; no gradient. */
  mask: tf.Tensor;
  /** ∂loss/∂tokenLoss, `[...]` float32: `1/k_total` on selected tokens; no gradient. */
  weights: tf.Tensor;
  /** Per-token model loss, `[...]`. */
  tokenLoss: tf.Tensor;
  /** Packed statistics, `[8]`; read them with {@link readSelectionStats}. */
  stats: tf.Tensor1D;
}

/** Whether the active backend supports `dataSync` (WebGPU needs OffscreenCanvas for it). */
function canReadSynchronously(): boolean {
  return (
    tf.getBackend() !== 'webgpu' ||
    typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined'
  );
}

/**
 * {@link resolveSelection} of the core, plus the check that a strategy reading reference losses
 * has them (`hasReference`).
 */
export function resolveTensorSelection(
  settings: SelectionOptions,
  hasReference: boolean,
  fn: string,
): ResolvedSelection {
  const resolved = resolveSelection(settings, fn);
  if (!hasReference && strategyNeedsReference(resolved.strategy)) {
    throwMissingOption(fn, 'refLoss', `by strategy '${resolved.strategy}'`);
  }
  return resolved;
}

/** Group length for `batchShape` under `selection` (sequence length defaults to the last axis). */
export function selectionGroupSize(
  selection: ResolvedSelection,
  batchShape: readonly number[],
  fn: string,
): number {
  const total = elementCount(batchShape);
  const seqLen =
    selection.seqLen ?? (selection.scope === 'sequence' ? batchShape[batchShape.length - 1] : undefined);
  return groupLength(total, selection.scope, seqLen, fn);
}

/** What a selection produced, all `[N]` except `threshold`; no gradient flows through any of it. */
export type TokenSelection = {
  /** ∂loss/∂tokenLoss: `mask / k_total`, or soft weights summing to 1. */
  weights: tf.Tensor1D;
  /** 1 for selected tokens. */
  mask: tf.Tensor1D;
  /** Smallest score among selected tokens, scalar. */
  threshold: tf.Scalar;
};

/**
 * Selects tokens from per-token losses `[N]` (no gradient is taken through this: call it outside
 * gradient closures, or through {@link selectWithoutGradient}).
 */
export function selectTokens(
  modelLoss: tf.Tensor1D,
  refLoss: tf.Tensor1D,
  valid: tf.Tensor1D,
  selection: ResolvedSelection,
  groupSize: number,
): TokenSelection {
  return tf.tidy(() => {
    const scores = scoresOnDevice(selection.strategy, {
      modelLoss,
      refLoss,
      seed: selection.seed,
      temperature: selection.temperature,
    });
    if (selection.output === 'weights') {
      const soft = softWeightsOnDevice(scores, valid, selection.temperature, groupSize);
      return {
        weights: tf.div(soft, tf.maximum(tf.sum(valid), 1)) as tf.Tensor1D,
        mask: tf.clone(valid),
        threshold: tf.scalar(Number.NEGATIVE_INFINITY),
      };
    }
    const { mask, threshold } = selectTopKOnDevice(scores, valid, selection.ratio, groupSize);
    return { weights: tf.div(mask, tf.maximum(tf.sum(mask), 1)) as tf.Tensor1D, mask, threshold };
  });
}

/** {@link selectTokens} as one tape node with a zero gradient, for use inside gradient closures. */
export function selectWithoutGradient(
  modelLoss: tf.Tensor1D,
  refLoss: tf.Tensor1D,
  valid: tf.Tensor1D,
  selection: ResolvedSelection,
  groupSize: number,
): TokenSelection {
  const tokenCount = modelLoss.shape[0];
  const packed = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [losses] = args as [tf.Tensor1D];
    const { weights, mask, threshold } = selectTokens(losses, refLoss, valid, selection, groupSize);
    const value = tf.concat([weights, mask, tf.reshape(threshold, [1])]);
    tf.dispose([weights, mask, threshold]);
    return { value, gradFunc: () => tf.zeros([tokenCount]) };
  })(modelLoss);
  const [weights, mask, threshold] = tf.split(packed, [tokenCount, tokenCount, 1]) as [
    tf.Tensor1D,
    tf.Tensor1D,
    tf.Tensor1D,
  ];
  packed.dispose();
  const scalarThreshold = tf.reshape(threshold, []) as tf.Scalar;
  threshold.dispose();
  return { weights, mask, threshold: scalarThreshold };
}

/** Packs the statistics of a selection into `[8]` (order: STATS_FIELDS). */
export function packStats(
  modelLoss: tf.Tensor1D,
  refLoss: tf.Tensor1D,
  valid: tf.Tensor1D,
  inRange: tf.Tensor1D,
  chosen: Pick<TokenSelection, 'mask' | 'threshold'>,
  loss: tf.Scalar,
): tf.Tensor1D {
  return tf.tidy(() => {
    const excess = tf.mul(tf.sub(modelLoss, refLoss), inRange);
    const finite = tf.logicalAnd(tf.isFinite(modelLoss), tf.isFinite(refLoss));
    const nonFinite = tf.sum(tf.mul(inRange, tf.sub(1, tf.cast(finite, 'float32'))));
    const safeExcess = tf.where(finite, excess, tf.zerosLike(excess));
    const unselected = tf.mul(valid, tf.sub(1, chosen.mask));
    const values = [
      tf.sum(chosen.mask),
      tf.sum(valid),
      tf.sum(tf.sub(valid, inRange)),
      nonFinite,
      tf.sum(tf.mul(safeExcess, chosen.mask)),
      tf.sum(tf.mul(safeExcess, unselected)),
      chosen.threshold,
      loss,
    ];
    return tf.stack(values.map((v) => tf.reshape(v, []))) as tf.Tensor1D;
  });
}

/**
 * Selective Language Modeling loss over tensors (Rho-1): per-token cross-entropy of `logits`,
 * scored (by default by excess loss `L_θ − L_ref`), the top `k = clamp(floor(ratio·n + 0.5), 1, n)`
 * valid tokens per group kept (ties to the lower flat index, exactly as the core), and the loss
 * averaged over them. Selection runs on the device with no host sync and stays out of the
 * gradient: `tf.grad` of `loss` gives `(softmax − onehot) / k_total` on selected rows, 0 elsewhere.
 *
 * Shapes: `logits` `[..., V]` (e.g. `[B, T, V]`), `labels` and `refLoss` `[...]` (e.g. `[B, T]`).
 *
 * @param logits - unnormalised scores `[..., V]`
 * @param labels - target ids, int32 tensor or host array `[...]`; `ignoreIndex` marks non-tokens
 * @param refLoss - reference per-token losses `[...]` (a constant); `null` for strategies that ignore it
 * @param options - see {@link TensorSelectiveLossOptions}
 * @returns loss, mask, weights, token losses and packed stats (see {@link TensorSelectiveLossResult})
 * @throws {@link SLMError} `BAD_TYPE` (also for a label tensor that is not int32), `SHAPE_MISMATCH`,
 *   `BAD_RATIO`, `BAD_OPTION`; `LABEL_OUT_OF_RANGE` for host labels that are not integers in
 *   `[0, V)` or `ignoreIndex`, in either validate mode; with `validate`, also for a label tensor,
 *   and `NON_FINITE`
 * @example
 * ```ts
 * const { value, grads } = tf.variableGrads(
 *   () => selectiveLoss(model.apply(x) as tf.Tensor3D, y, refLoss, { ratio: 0.6 }).loss,
 * );
 * ```
 */
export function selectiveLoss(
  logits: tf.Tensor,
  labels: TensorLike,
  refLoss: TensorLike | null,
  options: TensorSelectiveLossOptions = {},
): TensorSelectiveLossResult {
  const fn = 'selectiveLoss';
  checkTensor(logits, fn, 'logits');
  const selection = resolveTensorSelection(options, refLoss !== null && refLoss !== undefined, fn);
  const batchShape = logits.shape.slice(0, -1);
  const tokenCount = elementCount(batchShape);
  const vocab = logits.shape[logits.rank - 1]!;
  const groupSize = selectionGroupSize(selection, batchShape, fn);
  checkLabels(labels, vocab, selection.ignoreIndex, fn, 'labels');
  const labelInput = asTensor(labels, batchShape, 'int32', fn, 'labels', 'one label per row of logits');
  const refInput =
    refLoss === null || refLoss === undefined
      ? { tensor: tf.zeros(batchShape), created: true }
      : asTensor(refLoss, batchShape, 'float32', fn, 'refLoss', 'one reference loss per token');
  try {
    const result = tf.tidy(() => {
      const index = indexLabels(
        tf.reshape(labelInput.tensor, [tokenCount]) as tf.Tensor1D,
        vocab,
        selection.ignoreIndex,
      );
      const modelLoss = tokenLossRows(tf.reshape(logits, [tokenCount, vocab]) as tf.Tensor2D, index);
      const reference = tf.reshape(refInput.tensor, [tokenCount]) as tf.Tensor1D;
      const chosen = selectWithoutGradient(modelLoss, reference, index.valid, selection, groupSize);
      const loss = tf.sum(
        tf.mul(tf.where(tf.cast(chosen.mask, 'bool'), modelLoss, tf.zerosLike(modelLoss)), chosen.weights),
      ) as tf.Scalar;
      return {
        loss,
        mask: tf.reshape(chosen.mask, batchShape),
        weights: tf.reshape(chosen.weights, batchShape),
        tokenLoss: tf.reshape(modelLoss, batchShape),
        stats: packStats(modelLoss, reference, index.valid, index.inRange, chosen, loss),
      };
    });
    if (options.validate !== false && canReadSynchronously()) {
      try {
        readSelectionStatsSync(result.stats, fn);
      } catch (error) {
        tf.dispose(result);
        throw error;
      }
    }
    return result;
  } finally {
    if (labelInput.created) labelInput.tensor.dispose();
    if (refInput.created) refInput.tensor.dispose();
  }
}
