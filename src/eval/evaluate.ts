// Few-shot chain-of-thought evaluation: prompt, greedy decoding with stop sequences, extraction and
// grading, with per-example records.
import { SLMError } from '../core/errors.js';
import type { Tokenizer } from '../data/byteTokenizer.js';
import type { LlamaModel } from '../model/llama.js';
import type { MathExample } from './datasets.js';
import type { AnswerStyle } from './extract.js';
import { gradeCompletion } from './gradeCompletion.js';
import { type GradingOptions, gradingMode } from './grading.js';
import { writeJsonLines } from './jsonLines.js';
import { checkPythonSandbox, type PythonRunOptions } from './pythonExecutor.js';
import { type Generate, type ProgramRun, type PromptFormat, solveWithTools } from './toolIntegrated.js';

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
  /** `'cot'`, or a tool format: `'tora'`, `'pal'` (needs python3). @default 'cot' */
  format?: PromptFormat;
  /** Generate–execute rounds at most (tool formats). @default 4 for ToRA, 1 for PAL */
  maxRounds?: number;
  /** Limits and sandbox of each program run (tool formats); sandboxed unless `sandbox: 'none'`. */
  python?: PythonRunOptions;
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
  /** Programs run (tool formats only). */
  runs?: ProgramRun[];
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

/** A {@link Generate} function for a model: greedy decoding, the prompt's start dropped when too long. */
function modelGenerator(model: LlamaModel, tokenizer: Tokenizer, maxNewTokens: number): Generate {
  return async (prompt, stops) => {
    const ids = tokenizer.encode(prompt);
    const room = model.config.max_position_embeddings - 1;
    const context = ids.length > room ? ids.slice(ids.length - room) : ids; // keep the question
    const generated = await model.generate(context, {
      maxNewTokens: Math.min(maxNewTokens, model.config.max_position_embeddings - context.length),
    });
    return cutAtStop(tokenizer.decode(generated), stops);
  };
}

/** Stop sequences that end a completion: the start of the next problem. */
export const STOP_SEQUENCES = ['\n\nQuestion:', '\n\nProblem:'];

/**
 * The harness's chain-of-thought prompt, for GSM8K and MATH alike: `Question: …\nAnswer: …` blocks
 * separated by blank lines, then `Question: {question}\nAnswer:`.
 *
 * @example
 * ```ts
 * buildPrompt([], 'What is 2+3?'); // 'Question: What is 2+3?\nAnswer:'
 * ```
 */
export function buildPrompt(shots: readonly MathExample[], question: string): string {
  return `${shots.map((shot) => `Question: ${shot.question}\nAnswer: ${shot.solution}\n\n`).join('')}Question: ${question}\nAnswer:`;
}

/** `text` up to the first of the stop sequences. */
export function cutAtStop(text: string, stops: readonly string[] = STOP_SEQUENCES): string {
  const ends = stops.map((stop) => text.indexOf(stop)).filter((index) => index >= 0);
  return ends.length === 0 ? text : text.slice(0, Math.min(...ends));
}

/**
 * Few-shot math evaluation with greedy decoding, in the harness's formats: chain of thought (`'cot'`:
 * the prompt of {@link buildPrompt}, a completion cut at {@link STOP_SEQUENCES}), or with a Python
 * interpreter (`'tora'`, `'pal'`: {@link solveWithTools}). For each problem: the prompt, the
 * completion, the extracted answer and whether it matches the reference ({@link gradeCompletion},
 * harness rules unless `grading: 'strict'`).
 *
 * @throws {@link SLMError} `TOOL_UNAVAILABLE` in a tool format without python3;
 *   `SANDBOX_UNAVAILABLE` in a tool format where programs cannot be sandboxed (checked before the
 *   first generation; opt out with `python: { sandbox: 'none' }`); `BAD_OPTION` for an unknown
 *   `format` or `grading`
 * @example
 * ```ts
 * const { accuracy } = await evaluate({ model, tokenizer, dataset, shots: dataset.slice(0, 4) });
 * const tora = await evaluate({ model, tokenizer, dataset, shots: [], style: 'math', format: 'tora' });
 * ```
 */
export async function evaluate(options: EvaluateMathOptions): Promise<MathEvaluation> {
  const style = options.style ?? 'gsm8k';
  const format = options.format ?? 'cot';
  if (!['cot', 'tora', 'pal'].includes(format)) {
    throw new SLMError(
      'BAD_OPTION',
      `Option 'format' passed to 'evaluate' must be 'cot', 'tora' or 'pal', got ${JSON.stringify(format)}.`,
    );
  }
  const grading = gradingMode(options, 'evaluate');
  if (format !== 'cot') await checkPythonSandbox(options.python);
  const generate = modelGenerator(options.model, options.tokenizer, options.maxNewTokens ?? 256);
  const problems = options.dataset.slice(0, options.limit ?? options.dataset.length);
  const examples: GradedExample[] = [];
  for (const problem of problems) {
    if (format === 'cot') {
      const prompt = buildPrompt(options.shots, problem.question);
      const completion = await generate(prompt, STOP_SEQUENCES);
      const { extracted, correct } = gradeCompletion(completion, problem.answer, style, { grading });
      examples.push({ prompt, completion, extracted, reference: problem.answer, correct });
    } else {
      const solved = await solveWithTools({
        generate,
        question: problem.question,
        answer: problem.answer,
        style,
        format,
        grading,
        ...(options.maxRounds === undefined ? {} : { maxRounds: options.maxRounds }),
        ...(options.python === undefined ? {} : { python: options.python }),
      });
      const { prompt, completion, extracted, correct, runs } = solved;
      examples.push({ prompt, completion, extracted, reference: problem.answer, correct, runs });
    }
    options.onProgress?.(examples.length, problems.length);
  }
  if (options.out !== undefined) await writeJsonLines(options.out, examples);
  const correct = examples.filter((example) => example.correct).length;
  return {
    accuracy: examples.length === 0 ? 0 : correct / examples.length,
    correct,
    total: examples.length,
    examples,
  };
}
