// Per-token cross-entropy over flat logits [N·V] and its fused backward, side by side.
import { checkArrayLike, checkLength, type NumericArray } from './check.js';
import { SLMError } from './errors.js';
import { EXP_CUTOFF, expNonPositive } from './expNonPositive.js';
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

/** Largest element of row `[offset, offset + vocab)`; NaN entries are skipped. */
function rowMax(logits: FloatArray, offset: number, vocab: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = offset, end = offset + vocab; j < end; j++) {
    const x = logits[j]!;
    if (x > max) max = x;
  }
  return max;
}

/**
 * Σ exp(x − max) over the row, optionally storing each term in `terms` (same offset).
 * Returns NaN when the row holds a NaN.
 */
function rowSumExp(
  logits: FloatArray,
  offset: number,
  vocab: number,
  max: number,
  terms?: FloatArray,
): number {
  let sum = 0;
  let sawNaN = false;
  for (let j = offset, end = offset + vocab; j < end; j++) {
    const d = logits[j]! - max;
    let term = 0;
    if (d > EXP_CUTOFF) term = expNonPositive(d);
    else if (Number.isNaN(d)) sawNaN = true;
    sum += term;
    if (terms !== undefined) terms[j] = term;
  }
  return sawNaN ? Number.NaN : sum;
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
    const max = rowMax(logits, offset, vocab);
    // (max − x_label) first: it is exact and keeps log Σ from drowning in a huge max.
    const loss = max - logits[offset + label]! + Math.log(rowSumExp(logits, offset, vocab, max));
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
    const sum = rowSumExp(logits, offset, vocab, max, out);
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
    const labelShift = logits[offset + label]! - max;
    const labelTerm = labelShift > EXP_CUTOFF ? expNonPositive(labelShift) : 0;
    out[offset + label] = (-(sum - labelTerm) / sum) * weight;
  }
  return out;
}
