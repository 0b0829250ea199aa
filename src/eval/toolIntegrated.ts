// Tool-integrated evaluation in the harness's `tora` and `pal` formats: the model writes Python,
// the program runs (pythonExecutor), its output goes back into the text, and the final answer is
// graded.
import { SLMError } from '../core/errors.js';
import type { AnswerStyle } from './extract.js';
import { type AnswerVerdict, compareAnswers, gradeCompletion, referenceAnswer } from './gradeCompletion.js';
import { type GradingOptions, gradingMode } from './grading.js';
import { normalizeAnswer } from './normalize.js';
import { type PythonRun, type PythonRunOptions, runPython } from './pythonExecutor.js';

/** Prompt format: chain of thought, ToRA (reasoning interleaved with programs) or PAL (one program). */
export type PromptFormat = 'cot' | 'tora' | 'pal';

/** Text generation: the continuation of `prompt`, ending before the first of `stop` (or at its length limit). */
export type Generate = (prompt: string, stop: readonly string[]) => Promise<string>;

/** Stop sequences of the tool formats: the end of a turn, or the start of a program's output. */
export const TOOL_STOP_SEQUENCES = ['</s>', '\n\n---', '```output'];

/** Options of {@link solveWithTools}. */
export interface SolveWithToolsOptions extends GradingOptions {
  /** The model, as a text generator. */
  generate: Generate;
  /** The problem statement. */
  question: string;
  /** Its reference answer (GSM8K after `####`, MATH inside `\boxed{}`). */
  answer: string;
  /** Answer rules. */
  style: AnswerStyle;
  /** `'tora'` or `'pal'`. */
  format: 'tora' | 'pal';
  /** Text before the question (worked examples). @default '' */
  demos?: string;
  /** Generate–execute rounds at most. @default 4 for ToRA, 1 for PAL (as the harness) */
  maxRounds?: number;
  /** Limits and sandbox of each program run (sandboxed unless `sandbox: 'none'`). */
  python?: PythonRunOptions;
}

/** One executed program. */
export interface ProgramRun extends PythonRun {
  /** The code that ran. */
  code: string;
}

/** A problem solved with tools, graded. */
export interface ToolSolution extends AnswerVerdict {
  /** The prompt. */
  prompt: string;
  /** Everything after the prompt: generated text, program outputs and notes, stripped. */
  completion: string;
  /** Every program run, in order (failed ones report their error). */
  runs: ProgramRun[];
}

/**
 * The harness's prompt for a tool format: ToRA's chat layout `<|user|>\n{question}\n<|assistant|>\n`,
 * or PAL's `Question: {question}`, after `demos`.
 *
 * @example
 * ```ts
 * toolPrompt('What is 2+3?', 'pal'); // 'Question: What is 2+3?'
 * ```
 */
export function toolPrompt(question: string, format: 'tora' | 'pal', demos = ''): string {
  return format === 'tora'
    ? `${demos}<|user|>\n${question}\n<|assistant|>\n`
    : `${demos}Question: ${question}`;
}

/** The last ```python block of `text` (ToRA's `extract_program`), `''` when there is none. */
export function extractProgram(text: string): string {
  let program = '';
  let inside = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```python')) {
      program = '';
      inside = true;
    } else if (line.startsWith('```')) inside = false;
    else if (inside) program += `${line}\n`;
  }
  return program;
}

/**
 * Solves one problem in a tool format, as the harness's `math_eval.py` does. ToRA: generate until
 * `TOOL_STOP_SEQUENCES`; when the text ends with a closed code block and has no `boxed`, run the
 * last ```python block, append "```output\n{result or error}\n```" and continue, up to `maxRounds`
 * (then "Reach max function call limit."); the answer is read from the text ({@link gradeCompletion}).
 * PAL: generate once, run the program (or the whole text when it has no python block) and take
 * `solution()`'s value as the answer (normalised once, then compared as in {@link gradeCompletion}).
 *
 * @throws {@link SLMError} `BAD_OPTION` for `maxRounds` < 1; `TOOL_UNAVAILABLE` without python3;
 *   `SANDBOX_UNAVAILABLE` where programs cannot be sandboxed (see {@link runPython})
 * @example
 * ```ts
 * const solved = await solveWithTools({ generate, question, answer: '42', style: 'gsm8k', format: 'tora' });
 * solved.correct; solved.runs.map((run) => run.report);
 * ```
 */
export async function solveWithTools(options: SolveWithToolsOptions): Promise<ToolSolution> {
  const grading = gradingMode(options, 'solveWithTools');
  const maxRounds = options.maxRounds ?? (options.format === 'tora' ? 4 : 1);
  if (!Number.isInteger(maxRounds) || maxRounds < 1) {
    throw new SLMError(
      'BAD_OPTION',
      `Option 'maxRounds' passed to 'solveWithTools' must be an integer ≥ 1, got ${maxRounds}.`,
    );
  }
  const pal = options.format === 'pal';
  const python = pal ? { answerExpression: 'solution()', ...options.python } : (options.python ?? {});
  const prompt = toolPrompt(options.question, options.format, options.demos);
  const runs: ProgramRun[] = [];
  const run = async (code: string) => {
    const outcome = { code, ...(await runPython(code, python)) };
    runs.push(outcome);
    return outcome;
  };
  let text = prompt;
  for (let round = 0; round < maxRounds; round++) {
    const output = (await options.generate(text, TOOL_STOP_SEQUENCES)).trimEnd();
    text += output;
    if (!pal && (output.includes('boxed') || !output.endsWith('```'))) break;
    const executed = await run(pal && !output.includes('```python') ? output : extractProgram(text));
    const shown = executed.result !== '' ? executed.result : executed.report;
    text += `\n\`\`\`output\n${pal ? `\\boxed{${shown}}` : shown}\n\`\`\`\n`;
    if (round === maxRounds - 1) text += '\nReach max function call limit.';
    if (pal) break;
  }
  const completion = text.slice(prompt.length).trim();
  if (!pal)
    return {
      prompt,
      completion,
      runs,
      ...gradeCompletion(completion, options.answer, options.style, { grading }),
    };
  const finalCode = extractProgram(completion);
  const final = runs.find((each) => each.code === finalCode) ?? (await run(finalCode));
  const extracted = normalizeAnswer(final.result, { grading });
  const reference = referenceAnswer(options.answer, options.style, { grading });
  return {
    prompt,
    completion,
    runs,
    ...compareAnswers(extracted, reference, [final.result, options.answer], { grading }),
  };
}
