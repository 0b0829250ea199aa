// The counts of one selection, read from the device in one small transfer, and the checks on them.
import type * as tf from '@tensorflow/tfjs';
import { SLMError } from '../core/errors.js';

/** Order of the values packed in a stats tensor. */
export const STATS_FIELDS = [
  'selected',
  'total',
  'labelsOutOfRange',
  'nonFinite',
  'excessSumSelected',
  'excessSumUnselected',
  'threshold',
  'loss',
] as const;

/** Plain-number statistics of one selective loss evaluation. */
export interface SelectionStats {
  /** Tokens selected over the batch (`k_total`). */
  selected: number;
  /** Valid tokens over the batch. */
  total: number;
  /** `selected / total` (0 when nothing is valid). */
  selectedFraction: number;
  /** Mean excess loss of selected tokens (NaN when none). */
  meanExcessSelected: number;
  /** Mean excess loss of valid, unselected tokens (NaN when none). */
  meanExcessUnselected: number;
  /** Smallest score among selected tokens; `+Infinity` when none; `-Infinity` for soft weights. */
  threshold: number;
  /** The selective loss value. */
  loss: number;
}

/**
 * Reads a stats tensor (one device-to-host transfer of a few numbers) and checks the input it
 * describes: labels in range and finite losses. Does not dispose `stats`.
 *
 * @param stats - the `stats` tensor of {@link selectiveLoss}
 * @param fn - the function to name in errors
 * @throws {@link SLMError} `LABEL_OUT_OF_RANGE`, `NON_FINITE`
 * @example
 * ```ts
 * const { selected, total } = await readSelectionStats(result.stats);
 * ```
 */
export async function readSelectionStats(stats: tf.Tensor, fn = 'selectiveLoss'): Promise<SelectionStats> {
  return interpretStats(await stats.data(), fn);
}

/** Synchronous {@link readSelectionStats} for backends that can read synchronously (not WebGPU in Node). */
export function readSelectionStatsSync(stats: tf.Tensor, fn = 'selectiveLoss'): SelectionStats {
  return interpretStats(stats.dataSync(), fn);
}

/** Checks and names packed stats values (order: STATS_FIELDS; extra trailing values are ignored). */
export function interpretStats(values: ArrayLike<number>, fn: string): SelectionStats {
  const field = (name: (typeof STATS_FIELDS)[number]) => values[STATS_FIELDS.indexOf(name)]!;
  if (field('labelsOutOfRange') > 0) {
    throw new SLMError(
      'LABEL_OUT_OF_RANGE',
      `Argument 'labels' passed to '${fn}' has ${field('labelsOutOfRange')} label(s) outside [0, V) that are not ignoreIndex.`,
    );
  }
  if (field('nonFinite') > 0) {
    throw new SLMError(
      'NON_FINITE',
      `'${fn}' found ${field('nonFinite')} token(s) with a NaN or infinite model or reference loss; expected finite logits and 'refLoss'.`,
    );
  }
  const selected = field('selected');
  const total = field('total');
  return {
    selected,
    total,
    selectedFraction: total === 0 ? 0 : selected / total,
    meanExcessSelected: field('excessSumSelected') / selected,
    meanExcessUnselected: field('excessSumUnselected') / (total - selected),
    threshold: field('threshold'),
    loss: field('loss'),
  };
}
