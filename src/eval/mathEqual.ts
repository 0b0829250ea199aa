// Answer comparison: the harness's `math_equal` rules in their order, and their strict variant.
import { type GradingOptions, gradingMode } from './grading.js';
import { numericEqual, parseDigits } from './numbers.js';
import { symbolicEqual } from './symbolic.js';

/** Options of {@link mathEqual}. */
export interface MathEqualOptions extends GradingOptions {
  /**
   * Accept `x`, `x/100` and `x·100` for a numeric reference `x` (the harness's
   * `include_percentage`). @default true in `'harness'` grading, false in `'strict'`
   */
  includePercentage?: boolean;
}

/** Python's `str.strip(chars)`. */
function stripChars(text: string, chars: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text[start]!)) start++;
  while (end > start && chars.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** `{a,b}` rows of a reference written as sets, as `pmatrix` columns (`str_to_pmatrix`). */
function toPmatrix(text: string): string {
  const rows = text.trim().match(/\{.*,.*\}/g) ?? [];
  return rows
    .map((row) => `\\begin{pmatrix}${stripChars(row, '{}').replace(/,/g, '\\')}\\end{pmatrix}`)
    .join(', ');
}

const MATRIX_OPEN = /^\\begin\{[pb]matrix\}/;
const MATRIX_CLOSE = /\\end\{[pb]matrix\}$/;
const MATRIX_TAG = '\\begin{pmatrix}'.length;

function matrixRows(text: string): string[][] {
  return text
    .slice(MATRIX_TAG, -'\\end{pmatrix}'.length)
    .split('\\\\')
    .map((row) => row.trim())
    .filter((row) => row !== '')
    .map((row) => row.split('&'));
}

function allEqual(left: readonly string[], right: readonly string[], options: MathEqualOptions): boolean {
  return left.length === right.length && left.every((item, i) => mathEqual(item, right[i]!, options));
}

function sideOf(equation: string): string[] {
  return equation.split('=');
}

/**
 * Whether a normalised prediction matches a normalised reference, by the harness's `math_equal`
 * rules in order: identical strings; both numbers (commas, `%`) → the prediction within relative
 * 1e-4 of the reference, or (percentage rule) of reference/100 or reference·100; equal ignoring
 * case, `{}`, `()` and outer `[]` (`C` = `(C)`); bracketed lists element by element (`(1,2)`,
 * `[0.6,2.6667]`; bracket kinds are not compared); matrices entry by entry; equations
 * `l1=r1` vs `l2=r2` as `l1−r1 = ±(l2−r2)`; `k=v` vs `v`; else {@link symbolicEqual}.
 *
 * `grading: 'strict'` applies the percentage rule only when asked (`includePercentage`), and
 * requires intervals to have the same brackets.
 *
 * @example
 * ```ts
 * mathEqual('2500', '25');                        // true (percentage rule)
 * mathEqual('2500', '25', { grading: 'strict' }); // false
 * mathEqual('1000(26)', '26000');                 // true
 * ```
 */
export function mathEqual(prediction: string, reference: string, options?: MathEqualOptions): boolean {
  const strict = gradingMode(options, 'mathEqual') === 'strict';
  const percent = options?.includePercentage ?? !strict;
  if (prediction === reference) return true;
  const x = parseDigits(prediction);
  const y = parseDigits(reference);
  if (x !== undefined && y !== undefined) {
    const targets = percent ? [y / 100, y, y * 100] : [y];
    return targets.some((target) => numericEqual(x, target));
  }
  if (prediction === '') return false;
  const pred = prediction.trim();
  let ref = reference.trim();
  if (pred.includes('pmatrix') && !ref.includes('pmatrix')) ref = toPmatrix(ref);

  let predLoose = pred;
  let refLoose = ref;
  if (
    (pred.startsWith('[') && pred.endsWith(']') && !ref.startsWith('(')) ||
    (pred.startsWith('(') && pred.endsWith(')') && !ref.startsWith('['))
  ) {
    predLoose = stripChars(predLoose, '[]()');
    refLoose = stripChars(refLoose, '[]()');
  }
  const unbraced = (text: string) => text.replace(/[{}()]/g, '').toLowerCase();
  if (unbraced(predLoose) === unbraced(refLoose)) return true;

  const bracketed = /^[([].+[)\]]/;
  if (bracketed.test(pred) && bracketed.test(ref)) {
    const sameBrackets = pred[0] === ref[0] && pred.at(-1) === ref.at(-1);
    if (
      (!strict || sameBrackets) &&
      allEqual(pred.slice(1, -1).split(','), ref.slice(1, -1).split(','), options ?? {})
    )
      return true;
  }
  if (MATRIX_OPEN.test(pred) && MATRIX_CLOSE.test(pred) && MATRIX_OPEN.test(ref) && MATRIX_CLOSE.test(ref)) {
    const [left, right] = [matrixRows(pred), matrixRows(ref)];
    if (left.length === right.length && left.every((row, i) => allEqual(row, right[i]!, options ?? {})))
      return true;
  }

  const [predSides, refSides] = [sideOf(pred), sideOf(ref)];
  if (predSides.length === 2 && refSides.length === 2) {
    const difference = (sides: string[]) => `${sides[0]!.trim()} - (${sides[1]!.trim()})`;
    const [p, r] = [difference(predSides), difference(refSides)];
    if (symbolicEqual(p, r) || symbolicEqual(`-(${p})`, r)) return true;
  } else if (predSides.length === 2 && predSides[0]!.trim().length <= 2 && refSides.length === 1) {
    if (mathEqual(predSides[1]!, ref, options)) return true;
  } else if (refSides.length === 2 && refSides[0]!.trim().length <= 2 && predSides.length === 1) {
    if (mathEqual(pred, refSides[1]!, options)) return true;
  }
  return symbolicEqual(pred, ref);
}
