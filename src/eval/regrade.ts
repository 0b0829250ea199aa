// Re-grading saved completions without a model: rho-slm's own outputs or the Python harness's.
import { readFile } from 'node:fs/promises';
import { SLMError } from '../core/errors.js';
import { type AnswerStyle, extractAnswer, rawAnswer } from './extract.js';
import { type AnswerVerdict, compareAnswers, gradeCompletion, predictedAnswer } from './gradeCompletion.js';
import { type GradingOptions, gradingMode } from './grading.js';
import { writeJsonLines } from './jsonLines.js';
import { normalizeAnswer } from './normalize.js';

/** Options of {@link regradeOutputs}. */
export interface RegradeOptions extends GradingOptions {
  /** Answer rules of the task. */
  style: AnswerStyle;
  /** Writes one JSON line per item here (index, extracted, reference, correct, harnessCorrect). */
  out?: string;
}

/** One re-graded item. */
export interface RegradedItem extends AnswerVerdict {
  /** Line number in the input (1-based). */
  line: number;
  /** The verdict stored in a harness outputs file (`score[0]`), when present. */
  harnessCorrect?: boolean;
}

/** Accuracy of re-graded outputs, and agreement with stored harness verdicts when there were any. */
export interface RegradeResult {
  /** Items graded. */
  total: number;
  /** Items correct. */
  correct: number;
  /** `correct / total`. */
  accuracy: number;
  /** Items that carried a harness verdict. */
  withHarnessVerdict: number;
  /** Of those, the share where the verdicts agree (NaN when none). */
  agreement: number;
  /** Harness accuracy over the items that carried a verdict (NaN when none). */
  harnessAccuracy: number;
  /** Every item. */
  items: RegradedItem[];
}

function gradeRecord(record: Record<string, unknown>, options: RegradeOptions, where: string): AnswerVerdict {
  const grading = gradingMode(options, 'regradeOutputs');
  const code = record.code;
  if (Array.isArray(code) && typeof code[0] === 'string' && typeof record.gt === 'string') {
    // The harness's outputs: its reference is re-read from gt_cot (MATH) or re-normalised (gt).
    const reference =
      options.style === 'math' && typeof record.gt_cot === 'string'
        ? (extractAnswer(record.gt_cot, { grading }) ?? '')
        : normalizeAnswer(record.gt, { grading });
    const sources = [rawAnswer(code[0], true), String(record.gt_cot ?? record.gt)];
    return compareAnswers(predictedAnswer(code[0], { grading }), reference, sources, { grading });
  }
  const completion = record.completion;
  const answer = record.reference ?? record.answer;
  if (typeof completion !== 'string' || typeof answer !== 'string') {
    throw new SLMError(
      'BAD_OPTION',
      `${where} needs 'completion' and 'reference' (or 'answer') strings, or the harness's 'code' list and 'gt'.`,
    );
  }
  return gradeCompletion(completion, answer, options.style, { grading });
}

/**
 * Re-grades a JSONL file of completions without a model: rho-slm's `evaluate` output (`completion`,
 * `reference`), plain `{completion, answer}` lines, or the Python harness's outputs (`code[0]`,
 * `gt`, `gt_cot`, `score`), whose stored verdicts are compared item by item.
 *
 * @throws {@link SLMError} `BAD_OPTION` naming the file and line of a malformed record
 * @example
 * ```ts
 * const { accuracy, agreement } = await regradeOutputs('math/test_cot.jsonl', { style: 'math', out: 'verdicts.jsonl' });
 * ```
 */
export async function regradeOutputs(path: string, options: RegradeOptions): Promise<RegradeResult> {
  const items: RegradedItem[] = [];
  const lines = (await readFile(path, 'utf8')).split('\n');
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    const where = `${path}:${index + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SLMError('BAD_OPTION', `${where} is not valid JSON.`);
    }
    const verdict = gradeRecord(record, options, where);
    const score = Array.isArray(record.score) ? record.score[0] : undefined;
    items.push({
      line: index + 1,
      ...verdict,
      ...(typeof score === 'boolean' ? { harnessCorrect: score } : {}),
    });
  });
  if (options.out !== undefined) await writeJsonLines(options.out, items);
  const judged = items.filter((item) => item.harnessCorrect !== undefined);
  const correct = items.filter((item) => item.correct).length;
  return {
    total: items.length,
    correct,
    accuracy: items.length === 0 ? 0 : correct / items.length,
    withHarnessVerdict: judged.length,
    agreement: judged.filter((item) => item.harnessCorrect === item.correct).length / judged.length,
    harnessAccuracy: judged.filter((item) => item.harnessCorrect).length / judged.length,
    items,
  };
}
