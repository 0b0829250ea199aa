// Selection groups and validity: which positions compete with which, and which count at all.
import { checkArrayLike, checkLength, checkNumberOption, checkOneOf, type NumericArray } from './check.js';

/** `'batch'`: one group of all `B·T` positions (the paper). `'sequence'`: one group per row of `T`. */
export type SelectionScope = 'batch' | 'sequence';

/** Per-position validity: non-zero / `true` marks a token that may be selected. */
export type ValidMask = ArrayLike<number | boolean>;

const SCOPES: readonly SelectionScope[] = ['batch', 'sequence'];

/**
 * Validates `scope` and `seqLen` for `total` positions and returns the length of one group.
 * `seqLen` is required for `'sequence'` and, when given, must divide `total`.
 */
export function groupLength(total: number, scope: unknown, seqLen: unknown, fn: string): number {
  checkOneOf(scope, SCOPES, fn, 'scope');
  if (seqLen !== undefined || scope === 'sequence') {
    checkNumberOption(
      seqLen,
      (t) => Number.isInteger(t) && t > 0 && total % t === 0,
      fn,
      'seqLen',
      `a positive integer T dividing the ${total} positions (B·T)` +
        (scope === 'sequence' ? "; required for scope 'sequence'" : ''),
    );
  }
  return scope === 'batch' || total === 0 ? total : (seqLen as number);
}

/** Validates an optional valid mask against `total` positions. */
export function checkValid(
  valid: unknown,
  total: number,
  fn: string,
): asserts valid is ValidMask | undefined {
  if (valid === undefined) return;
  checkArrayLike(valid, fn, 'valid');
  checkLength(valid.length, total, fn, 'valid', 'one flag per position');
}

/**
 * Combines an explicit `valid` mask with labels: position `i` is valid when
 * `labels[i] !== ignoreIndex` (if labels are given) and `valid[i]` is set (if given).
 * Returns `undefined` when every position is valid.
 */
export function combineValid(
  total: number,
  valid: ValidMask | undefined,
  labels: NumericArray | undefined,
  ignoreIndex: number,
): ValidMask | undefined {
  if (labels === undefined) return valid;
  const combined = new Uint8Array(total);
  for (let i = 0; i < total; i++)
    combined[i] = labels[i] !== ignoreIndex && (valid === undefined || valid[i]) ? 1 : 0;
  return combined;
}
