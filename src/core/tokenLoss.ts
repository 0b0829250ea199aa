// Per-token cross-entropy over flat logits [N·V] and its fused backward, side by side.
import { checkArrayLike, checkLength, type NumericArray } from './check.js';
import { SLMError } from './errors.js';
import { expNonPositive, POWERS_OF_TWO } from './expNonPositive.js';
import { checkLogitsAndLabels, DEFAULT_IGNORE_INDEX, type FloatArray } from './labels.js';

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

/** Largest element of row `[offset, offset + vocab)`; NaN entries are skipped (four lanes, no branches). */
function rowMax(logits: FloatArray, offset: number, vocab: number): number {
  let max0 = Number.NEGATIVE_INFINITY;
  let max1 = max0;
  let max2 = max0;
  let max3 = max0;
  const end = offset + vocab;
  let j = offset;
  for (; j + 3 < end; j += 4) {
    const x0 = logits[j]!;
    const x1 = logits[j + 1]!;
    const x2 = logits[j + 2]!;
    const x3 = logits[j + 3]!;
    max0 = x0 > max0 ? x0 : max0;
    max1 = x1 > max1 ? x1 : max1;
    max2 = x2 > max2 ? x2 : max2;
    max3 = x3 > max3 ? x3 : max3;
  }
  for (; j < end; j++) max0 = logits[j]! > max0 ? logits[j]! : max0;
  max0 = max1 > max0 ? max1 : max0;
  max2 = max3 > max2 ? max3 : max2;
  return max2 > max0 ? max2 : max0;
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

/** Σ exp(x − max) over the row, storing each term in `terms` at the same offset; NaN if the row holds a NaN. */
function rowExpInto(
  logits: FloatArray,
  offset: number,
  vocab: number,
  max: number,
  terms: FloatArray,
): number {
  const powers = POWERS_OF_TWO;
  let sum = 0;
  for (let j = offset, end = offset + vocab; j < end; j++) {
    const term = expNonPositive(logits[j]! - max, powers);
    terms[j] = term;
    sum += term;
  }
  return sum;
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
export function tokenLoss(logits: FloatArray, labels: NumericArray, options?: TokenLossOptions): Float32Array;
export function tokenLoss<Out extends FloatArray>(
  logits: FloatArray,
  labels: NumericArray,
  options: TokenLossOptions & { out: Out },
): Out;
export function tokenLoss(
  logits: FloatArray,
  labels: NumericArray,
  options: TokenLossOptions & { out?: FloatArray } = {},
): FloatArray {
  const fn = 'tokenLoss';
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const vocab = checkLogitsAndLabels(logits, labels, ignoreIndex, fn, options.vocabSize);
  const tokenCount = labels.length;
  const out = options.out ?? new Float32Array(tokenCount);
  checkLength(out.length, tokenCount, fn, 'out', 'one loss per label');
  for (let i = 0; i < tokenCount; i++) {
    const label = labels[i]!;
    if (label === ignoreIndex) {
      out[i] = 0;
      continue;
    }
    const offset = i * vocab;
    const loss = rowLoss(logits, offset, vocab, logits[offset + label]!);
    if (!Number.isFinite(loss) && options.allowNonFinite !== true)
      throwNonFinite(logits, i, vocab, label, fn);
    out[i] = loss;
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
  options?: TokenLossOptions,
): Float32Array;
export function tokenLossGrad<Out extends FloatArray>(
  logits: FloatArray,
  labels: NumericArray,
  weights: NumericArray,
  options: TokenLossOptions & { out: Out },
): Out;
export function tokenLossGrad(
  logits: FloatArray,
  labels: NumericArray,
  weights: NumericArray,
  options: TokenLossOptions & { out?: FloatArray } = {},
): FloatArray {
  const fn = 'tokenLossGrad';
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const vocab = checkLogitsAndLabels(logits, labels, ignoreIndex, fn, options.vocabSize);
  const tokenCount = labels.length;
  checkArrayLike(weights, fn, 'weights');
  checkLength(weights.length, tokenCount, fn, 'weights', 'one weight per label');
  const out = options.out ?? new Float32Array(logits.length);
  checkLength(out.length, logits.length, fn, 'out', 'same length as logits');
  for (let i = 0; i < tokenCount; i++) {
    const label = labels[i]!;
    const weight = weights[i]!;
    const offset = i * vocab;
    if (label === ignoreIndex || weight === 0) {
      out.fill(0, offset, offset + vocab);
      continue;
    }
    const max = rowMax(logits, offset, vocab);
    const sum = rowExpInto(logits, offset, vocab, max, out);
    if (!(sum > 0 && Number.isFinite(max + sum + logits[offset + label]!) && Number.isFinite(weight))) {
      if (options.allowNonFinite !== true) {
        if (!Number.isFinite(weight)) {
          throw new SLMError(
            'NON_FINITE',
            `Argument 'weights' passed to '${fn}' has ${weight} at index ${i}; expected finite weights.`,
          );
        }
        throwNonFinite(logits, i, vocab, label, fn);
      }
    }
    const scale = weight / sum;
    for (let j = offset, end = offset + vocab; j < end; j++) out[j] = out[j]! * scale;
    // softmax − 1 at the label, in doubles: −(Σ others) / Σ keeps its digits when p → 1.
    const labelTerm = expNonPositive(logits[offset + label]! - max, POWERS_OF_TWO);
    out[offset + label] = (-(sum - labelTerm) / sum) * weight;
  }
  return out;
}
