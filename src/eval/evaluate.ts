// Few-shot chain-of-thought evaluation: prompt, greedy decoding with stop sequences, extraction and
// grading, with per-example records.
import { writeFile } from 'node:fs/promises';
import type { Tokenizer } from '../data/byteTokenizer.js';
import type { LlamaModel } from '../model/llama.js';
import type { MathExample } from './datasets.js';
import type { AnswerStyle } from './extract.js';
import { gradeCompletion } from './gradeCompletion.js';
import { type GradingOptions, gradingMode } from './grading.js';

/** Options of {@link evaluate}. */
export interface EvaluateMathOptions extends GradingOptions {
  /** The model to evaluate (decoding is greedy). */
  model: LlamaModel;
  /** Its tokenizer. */
  tokenizer: Tokenizer;
  /** The problems to solve. */
  dataset: readonly MathExample[];
  /** Worked examples for the prompt (few-shot). */
  shots: readonly MathExample[];
  /** Prompt layout and answer rules. @default 'gsm8k' */
  style?: AnswerStyle;
  /** Tokens generated per problem at most. @default 256 */
  maxNewTokens?: number;
  /** Evaluate only the first problems. */
  limit?: number;
  /** Writes one JSON line per problem here (prompt, completion, extracted, reference, correct). */
  out?: string;
  /** Called after each problem. */
  onProgress?: (done: number, total: number) => void;
}

/** One graded problem. */
export interface GradedExample {
  /** The few-shot prompt. */
  prompt: string;
  /** The generated text, cut at the stop sequences. */
  completion: string;
  /** The normalised answer found in it (`''` when none). */
  extracted: string;
  /** The reference answer. */
  reference: string;
  /** Whether they are equivalent. */
  correct: boolean;
}

/** Accuracy and the graded problems. */
export interface MathEvaluation {
  /** `correct / total`. */
  accuracy: number;
  /** Problems answered correctly. */
  correct: number;
  /** Problems evaluated. */
  total: number;
  /** Every graded problem. */
  examples: GradedExample[];
}

/** Stop sequences that end a completion: the start of the next problem. */
export const STOP_SEQUENCES = ['\n\nQuestion:', '\n\nProblem:'];

/** The few-shot prompt: `Question: …\nAnswer: …` (GSM8K) or `Problem: …\nSolution: …` (MATH) blocks. */
export function buildPrompt(shots: readonly MathExample[], question: string, style: AnswerStyle): string {
  const [ask, reply] = style === 'gsm8k' ? ['Question', 'Answer'] : ['Problem', 'Solution'];
  return `${shots.map((shot) => `${ask}: ${shot.question}\n${reply}: ${shot.solution}\n\n`).join('')}${ask}: ${question}\n${reply}:`;
}

/** `text` up to the first stop sequence. */
export function cutAtStop(text: string): string {
  const ends = STOP_SEQUENCES.map((stop) => text.indexOf(stop)).filter((index) => index >= 0);
  return ends.length === 0 ? text : text.slice(0, Math.min(...ends));
}

/**
 * Few-shot chain-of-thought evaluation with greedy decoding: for each problem, the prompt, a
 * completion cut at the stop sequences, the extracted answer and whether it matches the reference
 * ({@link gradeCompletion}, harness rules unless `grading: 'strict'`).
 *
 * @example
 * ```ts
 * const { accuracy } = await evaluate({ model, tokenizer, dataset, shots: dataset.slice(0, 4) });
 * ```
 */
export async function evaluate(options: EvaluateMathOptions): Promise<MathEvaluation> {
  const style = options.style ?? 'gsm8k';
  const grading = gradingMode(options, 'evaluate');
  const problems = options.dataset.slice(0, options.limit ?? options.dataset.length);
  const examples: GradedExample[] = [];
  for (const problem of problems) {
    const prompt = buildPrompt(options.shots, problem.question, style);
    const ids = options.tokenizer.encode(prompt);
    const room = options.model.config.max_position_embeddings - 1;
    const context = ids.length > room ? ids.slice(ids.length - room) : ids; // keep the question when the prompt is too long
    const generated = await options.model.generate(context, {
      maxNewTokens: Math.min(
        options.maxNewTokens ?? 256,
        options.model.config.max_position_embeddings - context.length,
      ),
    });
    const completion = cutAtStop(options.tokenizer.decode(generated));
    const verdict = gradeCompletion(completion, problem.answer, style, { grading });
    examples.push({
      prompt,
      completion,
      extracted: verdict.extracted,
      reference: problem.answer,
      correct: verdict.correct,
    });
    options.onProgress?.(examples.length, problems.length);
  }
  if (options.out !== undefined)
    await writeFile(options.out, examples.map((example) => `${JSON.stringify(example)}\n`).join(''));
  const correct = examples.filter((example) => example.correct).length;
  return {
    accuracy: examples.length === 0 ? 0 : correct / examples.length,
    correct,
    total: examples.length,
    examples,
  };
}
