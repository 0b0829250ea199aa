// The two grading modes shared by extraction, normalisation and comparison.
import { SLMError } from '../core/errors.js';

/**
 * How answers are graded.
 *
 * - `'harness'`: the rules of the Python math-evaluation-harness (ZubinGou/math-evaluation-harness,
 *   used for Rho-1's tables), quirks included, so accuracies match published numbers.
 * - `'strict'`: the same rules with the harness's bugs fixed (see docs/evaluation.md, "Where
 *   strict differs"): a sentence after "The answer is x" is not glued to x, a number is read as a
 *   percentage only when a `%` is written, unit words and `x=`/`and` are removed only where they
 *   are units or prefixes, and intervals keep their brackets.
 */
export type GradingMode = 'harness' | 'strict';

/** Options of the grading functions. */
export interface GradingOptions {
  /** Rule set. @default 'harness' */
  grading?: GradingMode;
}

/** The grading mode of `options`, checked. */
export function gradingMode(options: GradingOptions | undefined, fn: string): GradingMode {
  const mode = options?.grading ?? 'harness';
  if (mode !== 'harness' && mode !== 'strict') {
    throw new SLMError(
      'BAD_OPTION',
      `Option 'grading' passed to '${fn}' must be 'harness' or 'strict', got ${JSON.stringify(mode)}.`,
    );
  }
  return mode;
}
