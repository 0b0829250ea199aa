// Evaluation sets: GSM8K and MATH JSONL files, and a seeded synthetic arithmetic set that runs
// without downloads.
import { SLMError } from '../core/errors.js';
import { createRandom } from '../core/random.js';
import { readJsonl } from '../data/jsonl.js';
import { type AnswerStyle, lastBoxed } from './extract.js';

/** One problem: its text, a worked solution (for few-shot prompts) and the final answer. */
export interface MathExample {
  /** The problem statement. */
  question: string;
  /** A worked solution ending in the answer (used as a few-shot example). */
  solution: string;
  /** The final answer, as written in the source. */
  answer: string;
}

/**
 * Reads a JSONL file in the GSM8K layout (`question`, `answer` ending in `#### <number>`) or the
 * MATH layout (`problem`, `solution` with a final `\boxed{…}`).
 *
 * @throws {@link SLMError} `BAD_OPTION` naming the file and line of a malformed record
 * @example
 * ```ts
 * const problems = await loadMathDataset('gsm8k/test.jsonl', 'gsm8k');
 * ```
 */
export async function loadMathDataset(path: string, style: AnswerStyle): Promise<MathExample[]> {
  const examples: MathExample[] = [];
  for await (const { line, record } of readJsonl(path, 'loadMathDataset')) {
    const question = style === 'gsm8k' ? record.question : record.problem;
    const solution = style === 'gsm8k' ? record.answer : record.solution;
    if (typeof question !== 'string' || typeof solution !== 'string') {
      throw new SLMError(
        'BAD_OPTION',
        `${path}:${line} lacks ${style === 'gsm8k' ? "'question' and 'answer'" : "'problem' and 'solution'"}.`,
      );
    }
    const answer = style === 'gsm8k' ? /####\s*(.+)\s*$/.exec(solution)?.[1] : lastBoxed(solution);
    if (answer === undefined || answer === null) {
      throw new SLMError(
        'BAD_OPTION',
        `${path}:${line} has no final answer (${style === 'gsm8k' ? '#### <answer>' : '\\boxed{…}'}).`,
      );
    }
    examples.push({
      question,
      solution:
        style === 'gsm8k' ? solution.replace(/\n?####\s*.+$/, `\nThe answer is ${answer.trim()}.`) : solution,
      answer: answer.trim(),
    });
  }
  return examples;
}

const NAMES = ['Ada', 'Ben', 'Chloe', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana'];
const THINGS = ['apples', 'books', 'coins', 'stamps', 'marbles', 'pencils'];

/**
 * A seeded set of two-step arithmetic word problems in the GSM8K layout, with worked solutions.
 *
 * @example
 * ```ts
 * const problems = syntheticArithmetic({ count: 50, seed: 1 });
 * ```
 */
export function syntheticArithmetic(options: { count: number; seed?: number }): MathExample[] {
  const random = createRandom(options.seed ?? 0);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  return Array.from({ length: options.count }, () => {
    const [name, thing] = [pick(NAMES), pick(THINGS)];
    const [start, bought, given] = [int(5, 40), int(2, 20), int(1, 10)];
    const total = start + bought - given;
    return {
      question: `${name} has ${start} ${thing}. ${name} buys ${bought} more and gives ${given} away. How many ${thing} does ${name} have now?`,
      solution: `${name} has ${start} + ${bought} = ${start + bought} ${thing}, then ${start + bought} - ${given} = ${total}. The answer is ${total}.`,
      answer: String(total),
    };
  });
}
