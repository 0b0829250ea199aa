// Label validation and the vocabulary size implied by a flat logits array.
import { checkArrayLike, type NumericArray } from './check.js';
import { SLMError } from './errors.js';

/** Floating-point arrays the core reads logits from and writes losses into. */
export type FloatArray = Float32Array | Float64Array;

/** PyTorch's convention: a label equal to this is not a token. */
export const DEFAULT_IGNORE_INDEX = -100;

/**
 * Checks `logits` `[N·V]` against `labels` `[N]` and returns `V`. Every label must be
 * `ignoreIndex` or an integer in `[0, V)`.
 */
export function checkLogitsAndLabels(
  logits: unknown,
  labels: unknown,
  ignoreIndex: number,
  fn: string,
  vocabSize?: number,
): number {
  if (!(logits instanceof Float32Array || logits instanceof Float64Array)) {
    throw new SLMError(
      'BAD_TYPE',
      `Argument 'logits' passed to '${fn}' must be a Float32Array or Float64Array of shape [N·V].`,
    );
  }
  checkArrayLike(labels, fn, 'labels');
  const tokenCount = labels.length;
  if (tokenCount === 0) {
    if (logits.length !== 0) {
      throw new SLMError(
        'SHAPE_MISMATCH',
        `Argument 'labels' passed to '${fn}' is empty but 'logits' has length ${logits.length}.`,
      );
    }
    return vocabSize ?? 0;
  }
  const vocab = vocabSize ?? logits.length / tokenCount;
  if (!Number.isInteger(vocab) || vocab < 1 || logits.length !== tokenCount * vocab) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `Argument 'logits' passed to '${fn}' has length ${logits.length}, expected N·V with N = ${tokenCount} labels` +
        (vocabSize === undefined ? ' (a whole number of rows).' : ` and V = ${vocabSize}.`),
    );
  }
  checkLabelValues(labels as NumericArray, vocab, ignoreIndex, fn);
  return vocab;
}

/** Throws LABEL_OUT_OF_RANGE at the first label that is neither `ignoreIndex` nor an integer in `[0, V)`. */
export function checkLabelValues(labels: NumericArray, vocab: number, ignoreIndex: number, fn: string): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === ignoreIndex) continue;
    if (!(Number.isInteger(label) && label >= 0 && label < vocab)) {
      throw new SLMError(
        'LABEL_OUT_OF_RANGE',
        `Argument 'labels' passed to '${fn}' has ${label} at index ${i}; expected an integer in [0, ${vocab}) or ignoreIndex (${ignoreIndex}).`,
      );
    }
  }
}
