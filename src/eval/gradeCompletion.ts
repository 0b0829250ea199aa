// One graded answer, end to end as the harness grades it: extraction, normalisation, comparison.
import { type AnswerStyle, extractAnswer, rawAnswer } from './extract.js';
import { type GradingOptions, gradingMode } from './grading.js';
import { mathEqual } from './mathEqual.js';
import { normalizeAnswer } from './normalize.js';

/** A graded completion. */
export interface AnswerVerdict {
  /** The normalised answer found in the completion (`''` when none). */
  extracted: string;
  /** The normalised reference answer. */
  reference: string;
  /** Whether they match. */
  correct: boolean;
}

const PERCENT = /%|percent/;

/**
 * Grades a completion against a reference answer exactly as the harness's `evaluate.py` does: the
 * prediction is {@link extractAnswer} normalised once more (the harness normalises it twice); the
 * reference is the GSM8K answer normalised, or the MATH answer read as `\boxed{answer}`; the
 * verdict is {@link mathEqual}. In `'strict'` grading the percentage rule applies only when the
 * completion's answer or the reference carries a `%` (or "percent").
 *
 * @param completion - the model's text after the prompt
 * @param answer - the reference answer as the dataset writes it (GSM8K after `####`, MATH inside `\boxed{}`)
 * @param style - `'gsm8k'` or `'math'`
 * @example
 * ```ts
 * gradeCompletion('The answer is $1,200.', '1200', 'gsm8k').correct;          // true
 * gradeCompletion('So $\\boxed{\\\\frac{3}{2}}$.', '\\frac{3}{2}', 'math').correct; // true
 * ```
 */
export function gradeCompletion(
  completion: string,
  answer: string,
  style: AnswerStyle,
  options?: GradingOptions,
): AnswerVerdict {
  const strict = gradingMode(options, 'gradeCompletion') === 'strict';
  const extracted = normalizeAnswer(extractAnswer(completion, options) ?? '', options);
  const reference =
    style === 'gsm8k'
      ? normalizeAnswer(answer, options)
      : (extractAnswer(`\\boxed{${answer}}`, options) ?? '');
  const includePercentage = strict ? PERCENT.test(rawAnswer(completion, true)) || PERCENT.test(answer) : true;
  return {
    extracted,
    reference,
    correct: mathEqual(extracted, reference, { ...options, includePercentage }),
  };
}

/**
 * Whether two answers match: both normalised ({@link normalizeAnswer}), then {@link mathEqual}.
 *
 * @example
 * ```ts
 * isEquivalent('\\frac{1}{2}', '0.5'); // true
 * isEquivalent('x = 2', '2');          // true
 * isEquivalent('(C)', 'C');            // true
 * ```
 */
export function isEquivalent(predicted: string, reference: string, options?: GradingOptions): boolean {
  const strict = gradingMode(options, 'isEquivalent') === 'strict';
  const includePercentage = !strict || PERCENT.test(predicted) || PERCENT.test(reference);
  return mathEqual(normalizeAnswer(predicted, options), normalizeAnswer(reference, options), {
    ...options,
    includePercentage,
  });
}
