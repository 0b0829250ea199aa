// The SLM objective: mean loss over the top-k tokens by excess loss (or a soft reweighting).
import { checkArrayLike, checkFinite, checkLength, type NumericArray, throwMissingOption } from './check.js';
import { checkValid, combineValid, groupLength, type ValidMask } from './groups.js';
import { type SelectionStrategy, selectionScores, strategyNeedsReference } from './selectionScores.js';
import { resolveSelection, type SelectionOptions } from './selectionSettings.js';
import { softWeightsByGroup } from './softSelectionWeights.js';
import { selectTopK } from './topKMask.js';

/** Inputs of {@link selectiveLoss}. */
export interface SelectiveLossOptions extends SelectionOptions {
  /** Current model's per-token loss `L_θ`, `[B·T]` (e.g. from {@link tokenLoss}). */
  modelLoss: NumericArray;
  /** Reference model's per-token loss `L_ref`, `[B·T]`; required unless `strategy` is `'model-loss'` or `'random'`. */
  refLoss?: NumericArray;
  /** Which positions are tokens, `[B·T]`; combined with `labels` when both are given. */
  valid?: ValidMask;
  /** Labels `[B·T]`; positions equal to `ignoreIndex` are not tokens. */
  labels?: NumericArray;
  /** Let NaN or infinite losses through instead of throwing `NON_FINITE`. @default false */
  allowNonFinite?: boolean;
}

/** Result of {@link selectiveLoss}. */
export interface SelectiveLossResult {
  /** The SLM loss: `Σ selected L_θ / selected` (mask), `Σ w_i·L_θ,i / Σ w_i` (weights); 0 with nothing valid. */
  loss: number;
  /** 1 for selected tokens, `[B·T]`; with `output: 'weights'`, the valid tokens. */
  mask: Uint8Array;
  /** ∂loss/∂modelLoss[i], `[B·T]`: `1/selected` on selected tokens; pass it to {@link tokenLossGrad}. */
  weights: Float32Array;
  /** Number of selected tokens over the whole batch (`k_total`). */
  selected: number;
  /** Number of valid tokens over the whole batch. */
  total: number;
  /** Smallest selection score among selected tokens; `+Infinity` when none is selected; `-Infinity` for `'weights'`. */
  threshold: number;
}

function checkInputs(options: SelectiveLossOptions, strategy: SelectionStrategy, fn: string): void {
  const { modelLoss, refLoss, labels } = options;
  checkArrayLike(modelLoss, fn, 'modelLoss');
  const total = modelLoss.length;
  if (refLoss !== undefined) {
    checkArrayLike(refLoss, fn, 'refLoss');
    checkLength(refLoss.length, total, fn, 'refLoss', "one reference loss per token of 'modelLoss'");
  } else if (strategyNeedsReference(strategy)) {
    throwMissingOption(fn, 'refLoss', `by strategy '${strategy}'`);
  }
  if (labels !== undefined) {
    checkArrayLike(labels, fn, 'labels');
    checkLength(labels.length, total, fn, 'labels', "one label per token of 'modelLoss'");
  }
  checkValid(options.valid, total, fn);
}

/**
 * Selective Language Modeling loss (Rho-1): score every valid token (by default its excess loss
 * `L_θ − L_ref`), keep the top `k = clamp(floor(ratio·n + 0.5), 1, n)` per group (ties to the
 * lower index), and average the model loss over the selected tokens only:
 * `L_SLM = Σ_i mask_i·L_θ(x_i) / k_total`. Sums run in doubles.
 *
 * Shapes: `modelLoss`, `refLoss`, `valid`, `labels` `[B·T]` (flat, `b·T + t`); results `[B·T]`.
 *
 * @param options - see {@link SelectiveLossOptions}
 * @returns loss, mask, gradient weights and counts, see {@link SelectiveLossResult}
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `BAD_RATIO`, `BAD_OPTION`, `NON_FINITE`
 *
 * @example
 * ```ts
 * const modelLoss = tokenLoss(logits, labels);
 * const { loss, weights } = selectiveLoss({ modelLoss, refLoss, labels, ratio: 0.6 });
 * const gradLogits = tokenLossGrad(logits, labels, weights);
 * ```
 */
export function selectiveLoss(options: SelectiveLossOptions): SelectiveLossResult {
  const fn = 'selectiveLoss';
  const { strategy, output, ratio, scope, ignoreIndex, temperature } = resolveSelection(options ?? {}, fn);
  checkInputs(options, strategy, fn);
  const { modelLoss } = options;
  const count = modelLoss.length;
  const groupSize = groupLength(count, scope, options.seqLen, fn);
  const valid = combineValid(count, options.valid, options.labels, ignoreIndex);
  if (options.allowNonFinite !== true) {
    checkFinite(modelLoss, fn, 'modelLoss', valid);
    if (options.refLoss !== undefined) checkFinite(options.refLoss, fn, 'refLoss', valid);
  }
  const scores = selectionScores(strategy, options);

  if (output === 'mask') return hardSelection(modelLoss, scores, valid, ratio, groupSize);
  return softSelection(modelLoss, scores, valid, temperature, groupSize);
}

function hardSelection(
  modelLoss: NumericArray,
  scores: Float64Array,
  valid: ValidMask | undefined,
  ratio: number,
  groupSize: number,
): SelectiveLossResult {
  const count = modelLoss.length;
  const mask = new Uint8Array(count);
  const { selected, total, threshold } = selectTopK(scores, valid, ratio, groupSize, mask);
  const weights = new Float32Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    if (mask[i] === 0) continue;
    weights[i] = 1 / selected;
    sum += modelLoss[i]!;
  }
  return { loss: selected === 0 ? 0 : sum / selected, mask, weights, selected, total, threshold };
}

function softSelection(
  modelLoss: NumericArray,
  scores: Float64Array,
  valid: ValidMask | undefined,
  temperature: number,
  groupSize: number,
): SelectiveLossResult {
  const count = modelLoss.length;
  const weights = softWeightsByGroup(scores, valid, groupSize, temperature);
  const mask = new Uint8Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (valid !== undefined && !valid[i]) continue;
    mask[i] = 1;
    total++;
  }
  let sum = 0;
  for (let i = 0; i < count; i++) {
    if (mask[i] === 0) continue;
    weights[i] = weights[i]! / total;
    sum += weights[i]! * modelLoss[i]!;
  }
  return { loss: sum, mask, weights, selected: total, total, threshold: Number.NEGATIVE_INFINITY };
}
