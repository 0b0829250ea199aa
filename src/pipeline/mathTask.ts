// Few-shot math accuracy as one pipeline step: the dataset (a JSONL file or the bundled synthetic
// arithmetic), the worked examples for the prompt, the model, and the graded run.
import { SLMError } from '../core/errors.js';
import { byteTokenizer, type Tokenizer } from '../data/byteTokenizer.js';
import { loadMathDataset, type MathExample, syntheticArithmetic } from '../eval/datasets.js';
import { evaluate, type MathEvaluation } from '../eval/evaluate.js';
import type { GradingMode } from '../eval/grading.js';
import type { PythonRunOptions } from '../eval/pythonExecutor.js';
import type { PromptFormat } from '../eval/toolIntegrated.js';
import type { LlamaModel } from '../model/llama.js';
import { withInferenceModel } from './inferenceModel.js';

/** The math tasks: GSM8K and MATH from JSONL files, or seeded synthetic arithmetic (no download). */
export const MATH_TASKS = ['gsm8k', 'math', 'arithmetic'] as const;

/** One of {@link MATH_TASKS}. */
export type MathTask = (typeof MATH_TASKS)[number];

/** Options of {@link evaluateMathTask}. */
export interface MathTaskOptions {
  /** The model, or its checkpoint directory. */
  model: LlamaModel | string;
  /** Which task. */
  task: MathTask;
  /** The problems as JSONL (needed for `gsm8k` and `math`). */
  data?: string;
  /** JSONL of worked examples for the prompt, in the task's layout. @default none (synthetic ones for `arithmetic`) */
  shots?: string;
  /** `'cot'`, or a tool format: `'tora'`, `'pal'` (runs python3). @default 'cot' */
  format?: PromptFormat;
  /** Limits and sandbox of each program run (tool formats; `{ sandbox: 'none' }` opts out, unsafe). */
  python?: PythonRunOptions;
  /** `'harness'` (as the published numbers) or `'strict'`. @default 'harness' */
  grading?: GradingMode;
  /** Worked examples in the prompt. @default 4 */
  numShots?: number;
  /** Evaluate only the first problems. */
  limit?: number;
  /** Tokens generated per problem at most. @default 256 */
  maxNewTokens?: number;
  /** Writes one JSON line per problem here. */
  out?: string;
  /** The model's tokenizer. @default byteTokenizer() */
  tokenizer?: Tokenizer;
  /** Called once the number of problems is known, then after each problem. */
  onProgress?: (done: number, total: number) => void;
}

/** The problems of a task and the worked examples for its prompt. */
async function taskExamples(
  options: MathTaskOptions,
): Promise<{ dataset: MathExample[]; shots: MathExample[] }> {
  const numShots = options.numShots ?? 4;
  if (options.task === 'arithmetic') {
    const shots =
      options.shots === undefined
        ? syntheticArithmetic({ count: numShots, seed: 2 })
        : (await loadMathDataset(options.shots, 'gsm8k')).slice(0, numShots);
    return { dataset: syntheticArithmetic({ count: 200, seed: 1 }), shots };
  }
  if (options.data === undefined)
    throw new SLMError(
      'BAD_OPTION',
      `eval: task ${options.task} needs its problems as JSONL (--data <file.jsonl>).`,
    );
  return {
    dataset: await loadMathDataset(options.data, options.task),
    shots:
      options.shots === undefined
        ? []
        : (await loadMathDataset(options.shots, options.task)).slice(0, numShots),
  };
}

/**
 * Few-shot accuracy of a model on a math task, decoding greedily, in chain-of-thought or a
 * tool-integrated format (ToRA, PAL).
 *
 * @throws {@link SLMError} `BAD_OPTION` for an unknown task, a missing or malformed problem file;
 *   `SANDBOX_UNAVAILABLE` in a tool format where programs cannot be sandboxed
 * @example
 * ```ts
 * const { accuracy } = await evaluateMathTask({ model: 'slm', task: 'arithmetic', limit: 20 });
 * ```
 */
export async function evaluateMathTask(options: MathTaskOptions): Promise<MathEvaluation> {
  if (!MATH_TASKS.includes(options.task))
    throw new SLMError(
      'BAD_OPTION',
      `eval: unknown task '${options.task}'; expected one of ${MATH_TASKS.join(', ')}.`,
    );
  const { dataset, shots } = await taskExamples(options);
  return withInferenceModel(options.model, async (model) => {
    const total = Math.min(options.limit ?? dataset.length, dataset.length);
    options.onProgress?.(0, total);
    return evaluate({
      model,
      tokenizer: options.tokenizer ?? byteTokenizer(),
      dataset,
      shots,
      style: options.task === 'math' ? 'math' : 'gsm8k',
      maxNewTokens: options.maxNewTokens ?? 256,
      ...(options.format === undefined ? {} : { format: options.format }),
      ...(options.grading === undefined ? {} : { grading: options.grading }),
      ...(options.python === undefined ? {} : { python: options.python }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.out === undefined ? {} : { out: options.out }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
  });
}
