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

/** A completion's answer as the harness grades it: extracted, then normalised once more. */
export function predictedAnswer(completion: string, options?: GradingOptions): string {
  return normalizeAnswer(extractAnswer(completion, options) ?? '', options);
}

/** A reference answer as the harness grades it: GSM8K's normalised, MATH's read as `\boxed{answer}`. */
export function referenceAnswer(answer: string, style: AnswerStyle, options?: GradingOptions): string {
  return style === 'gsm8k'
    ? normalizeAnswer(answer, options)
    : (extractAnswer(`\\boxed{${answer}}`, options) ?? '');
}

/**
 * The verdict on a normalised prediction and reference ({@link mathEqual}); `sources` are the texts
 * they came from: in `'strict'` grading the percentage rule applies only when one of them writes a
 * `%` (or "percent").
 */
export function compareAnswers(
  extracted: string,
  reference: string,
  sources: readonly string[],
  options?: GradingOptions,
): AnswerVerdict {
  const strict = gradingMode(options, 'compareAnswers') === 'strict';
  const includePercentage = !strict || sources.some((source) => PERCENT.test(source));
  return {
    extracted,
    reference,
    correct: mathEqual(extracted, reference, { ...options, includePercentage }),
  };
}

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
  const sources = [rawAnswer(completion, true), answer];
  return compareAnswers(
    predictedAnswer(completion, options),
    referenceAnswer(answer, style, options),
    sources,
    options,
  );
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
  const [a, b] = [normalizeAnswer(predicted, options), normalizeAnswer(reference, options)];
  return compareAnswers(a, b, [predicted, reference], options).correct;
}
