// Per-token cross-entropy over flat logits [N·V] and its fused backward, side by side.
import { checkArrayLike, checkLength, type NumericArray } from './check.js';
import { SLMError } from './errors.js';
import { expNonPositive, POWERS_OF_TWO } from './expNonPositive.js';
import { checkLogitsAndLabels, DEFAULT_IGNORE_INDEX, type FloatArray } from './labels.js';
import { simdRows } from './simdRows.js';

/** Options shared by {@link tokenLoss} and {@link tokenLossGrad}. */
export interface TokenLossOptions {
  /** Label value that marks a position as not a token (loss 0, no gradient). @default -100 */
  ignoreIndex?: number;
  /** Vocabulary size `V`; inferred as `logits.length / labels.length` when omitted. */
  vocabSize?: number;
  /**
   * Let NaN or infinite losses through instead of throwing `NON_FINITE`. `-Infinity` logits
   * (masked vocabulary entries) are always allowed while the label's own logit is finite.
   * @default false
   */
  allowNonFinite?: boolean;
}

/** Extra options of {@link tokenLoss}. */
export interface TokenLossForwardOptions extends TokenLossOptions {
  /** Receives `logsumexp(logits[i, :])` per row `[N]` (0 for non-tokens): pass it to {@link tokenLossGrad}. */
  logSumExpOut?: FloatArray;
}

/** Extra options of {@link tokenLossGrad}. */
export interface TokenLossGradOptions extends TokenLossOptions {
  /**
   * Per-row `logsumexp` `[N]` from the forward ({@link TokenLossForwardOptions.logSumExpOut}):
   * the backward then takes one pass per row instead of three.
   */
  logSumExp?: ArrayLike<number>;
}

/**
 * `logsumexp(row) − labelLogit`, computed as `(max − labelLogit) + log Σ exp(x − max)` in one
 * pass with a running max (the sum is rescaled on the rare new maximum). Starting from the most
 * negative double instead of -Infinity lets -Infinity logits contribute exactly 0; NaN or
 * +Infinity logits make the result NaN, never a silent finite value.
 */
function rowLoss(logits: FloatArray, offset: number, vocab: number, labelLogit: number): number {
  const powers = POWERS_OF_TWO;
  let max = -1.7976931348623157e308; // −Number.MAX_VALUE, spelled out for the hot loop
  let sum = 0;
  for (let j = offset, end = offset + vocab; j < end; j++) {
    const x = logits[j]!;
    if (x > max) {
      sum *= expNonPositive(max - x, powers);
      max = x;
    }
    sum += expNonPositive(x - max, powers);
  }
  // (max − x_label) first: it is exact and keeps log Σ from drowning in a huge max.
  return max - labelLogit + Math.log(sum);
}

/** `out[j] = weight · exp(x_j − logSumExp)` over the row: one pass, one exp per entry. */
function writeSoftmaxRow(
  logits: FloatArray,
  offset: number,
  vocab: number,
  logSumExp: number,
  weight: number,
  out: FloatArray,
): void {
  const powers = POWERS_OF_TWO;
  for (let j = offset, end = offset + vocab; j < end; j++) {
    const d = logits[j]! - logSumExp; // ≤ 0 up to rounding; clamp the rounding away
    out[j] = weight * expNonPositive(d > 0 ? 0 : d, powers);
  }
}

function throwNonFinite(logits: FloatArray, row: number, vocab: number, label: number, fn: string): never {
  const offset = row * vocab;
  for (let j = 0; j < vocab; j++) {
    const x = logits[offset + j]!;
    if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) {
      throw new SLMError(
        'NON_FINITE',
        `Argument 'logits' passed to '${fn}' has ${x} at row ${row}, column ${j}; expected finite logits.`,
      );
    }
  }
  throw new SLMError(
    'NON_FINITE',
    `Argument 'logits' passed to '${fn}' gives an infinite loss at row ${row}: the logit of label ${label} is ${logits[offset + label]}; expected finite logits.`,
  );
}

/**
 * Per-token cross-entropy: `loss[i] = logsumexp(logits[i, :]) − logits[i, labels[i]]`,
 * max-shifted and summed in doubles, one fused pass per row; `0` where `labels[i] === ignoreIndex`.
 *
 * Shapes: `logits` `[N·V]` row-major (token `i = b·T + t`), `labels` `[N]`, result `[N]`.
 *
 * @param logits - unnormalised scores, `[N·V]`
 * @param labels - target ids in `[0, V)` or `ignoreIndex`, `[N]`
 * @param options - see {@link TokenLossOptions}; `out` receives the result (e.g. a Float64Array)
 * @returns per-token losses in nats, `[N]` (a new Float32Array unless `out` is given)
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `LABEL_OUT_OF_RANGE`, `NON_FINITE`
 *
 * @example
 * ```ts
 * const logits = new Float32Array([2, 0, 0,  0, 1, 0]); // N = 2, V = 3
 * tokenLoss(logits, [0, -100]); // Float32Array [0.2395, 0]
 * ```
 */
export function tokenLoss(
  logits: FloatArray,
  labels: NumericArray,
  options?: TokenLossForwardOptions,
): Float32Array;
export function tokenLoss<Out extends FloatArray>(
  logits: FloatArray,
  labels: NumericArray,
  options: TokenLossForwardOptions & { out: Out },
): Out;
export function tokenLoss(
  logits: FloatArray,
  labels: NumericArray,
  options: TokenLossForwardOptions & { out?: FloatArray } = {},
): FloatArray {
  const fn = 'tokenLoss';
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const vocab = checkLogitsAndLabels(logits, labels, ignoreIndex, fn, options.vocabSize);
  const tokenCount = labels.length;
  const out = options.out ?? new Float32Array(tokenCount);
  checkLength(out.length, tokenCount, fn, 'out', 'one loss per label');
  const logSumExpOut = options.logSumExpOut;
  const simd = logits instanceof Float32Array && out instanceof Float32Array ? simdRows(vocab) : null;
  if (logSumExpOut !== undefined)
    checkLength(logSumExpOut.length, tokenCount, fn, 'logSumExpOut', 'one value per label');
  for (let i = 0; i < tokenCount; i++) {
    const label = labels[i]!;
    if (label === ignoreIndex) {
      out[i] = 0;
      if (logSumExpOut !== undefined) logSumExpOut[i] = 0;
      continue;
    }
    const offset = i * vocab;
    const labelLogit = logits[offset + label]!;
    const loss =
      simd === null
        ? rowLoss(logits, offset, vocab, labelLogit)
        : simd.loss(logits as Float32Array, offset, labelLogit);
    if (!Number.isFinite(loss) && options.allowNonFinite !== true)
      throwNonFinite(logits, i, vocab, label, fn);
    out[i] = loss;
    if (logSumExpOut !== undefined) logSumExpOut[i] = loss + labelLogit;
  }
  return out;
}

/**
 * Backward of {@link tokenLoss} with per-token upstream weights, fused:
 * `grad[i, :] = weights[i] · (softmax(logits[i, :]) − onehot(labels[i]))`, zero rows where
 * `labels[i] === ignoreIndex` or `weights[i] === 0`. With `weights = selectiveLoss(...).weights`
 * this is the gradient of the SLM loss with respect to the logits.
 *
 * Shapes: `logits` `[N·V]`, `labels` `[N]`, `weights` `[N]`, result `[N·V]`.
 *
 * @param logits - unnormalised scores, `[N·V]`
 * @param labels - target ids in `[0, V)` or `ignoreIndex`, `[N]`
 * @param weights - ∂loss/∂tokenLoss[i], `[N]`
 * @param options - see {@link TokenLossOptions}; `out` receives the result
 * @returns ∂loss/∂logits, `[N·V]` (a new Float32Array unless `out` is given)
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `LABEL_OUT_OF_RANGE`, `NON_FINITE`
 *
 * @example
 * ```ts
 * const { weights } = selectiveLoss({ modelLoss, refLoss, ratio: 0.6 });
 * const gradLogits = tokenLossGrad(logits, labels, weights);
 * ```
 */
export function tokenLossGrad(
  logits: FloatArray,
  labels: NumericArray,
  weights: NumericArray,
  options?: TokenLossGradOptions,
): Float32Array;
export function tokenLossGrad<Out extends FloatArray>(
  logits: FloatArray,
  labels: NumericArray,
  weights: NumericArray,
  options: TokenLossGradOptions & { out: Out },
): Out;
export function tokenLossGrad(
  logits: FloatArray,
  labels: NumericArray,
  weights: NumericArray,
  options: TokenLossGradOptions & { out?: FloatArray } = {},
): FloatArray {
  const fn = 'tokenLossGrad';
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const vocab = checkLogitsAndLabels(logits, labels, ignoreIndex, fn, options.vocabSize);
  const tokenCount = labels.length;
  checkArrayLike(weights, fn, 'weights');
  checkLength(weights.length, tokenCount, fn, 'weights', 'one weight per label');
  const out = options.out ?? new Float32Array(logits.length);
  checkLength(out.length, logits.length, fn, 'out', 'same length as logits');
  const simd = logits instanceof Float32Array && out instanceof Float32Array ? simdRows(vocab) : null;
  for (let i = 0; i < tokenCount; i++) {
    const label = labels[i]!;
    const weight = weights[i]!;
    const offset = i * vocab;
    if (label === ignoreIndex || weight === 0) {
      out.fill(0, offset, offset + vocab);
      continue;
    }
    if (!Number.isFinite(weight) && options.allowNonFinite !== true) {
      throw new SLMError(
        'NON_FINITE',
        `Argument 'weights' passed to '${fn}' has ${weight} at index ${i}; expected finite weights.`,
      );
    }
    const labelLogit = logits[offset + label]!;
    // Without the forward's logsumexp, the row loss gives log p(label) = −loss to full precision.
    const labelShift =
      options.logSumExp === undefined
        ? -rowLoss(logits, offset, vocab, labelLogit)
        : labelLogit - options.logSumExp[i]!;
    const logSumExp = labelLogit - labelShift;
    if (!(Number.isFinite(logSumExp) && Number.isFinite(labelShift)) && options.allowNonFinite !== true) {
      throwNonFinite(logits, i, vocab, label, fn);
    }
    if (simd === null) writeSoftmaxRow(logits, offset, vocab, logSumExp, weight, out);
    else simd.softmaxInto(logits as Float32Array, offset, logSumExp, weight, out as Float32Array);
    // softmax − 1 at the label, as expm1: keeps its digits when p → 1.
    out[offset + label] = Math.expm1(labelShift > 0 ? 0 : labelShift) * weight;
  }
  return out;
}
