// Final-answer extraction from a completion: the harness's `extract_answer` rules, and their
// strict variant.
import { type GradingOptions, gradingMode } from './grading.js';
import { normalizeAnswer } from './normalize.js';

/** Prompt and answer layout: GSM8K (`The answer is 42`) or MATH (`\boxed{…}`). */
export type AnswerStyle = 'gsm8k' | 'math';

/** The text after the last `\boxed{` up to its balanced `}` (all the rest when unbalanced). */
function boxedContent(afterBoxed: string): string {
  let depth = 1;
  for (let i = 1; i < afterBoxed.length; i++) {
    if (afterBoxed[i] === '{') depth++;
    else if (afterBoxed[i] === '}' && --depth === 0) return afterBoxed.slice(1, i);
  }
  return afterBoxed.slice(1);
}

/** The content of the last `\boxed{…}` (or `\fbox{…}`) with balanced braces, if any. */
export function lastBoxed(text: string): string | null {
  const start = Math.max(text.lastIndexOf('\\boxed'), text.lastIndexOf('\\fbox'));
  if (start < 0) return null;
  const open = text.indexOf('{', start);
  if (open < 0) return null;
  const content = boxedContent(text.slice(open));
  return content.length === text.length - open - 1 ? null : content;
}

/** Strict: the answer phrase ends at the end of its sentence or line, outside braces. */
function firstSentence(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{') depth++;
    else if (char === '}') depth--;
    else if (depth <= 0 && (char === '\n' || (char === '.' && /^\s|^$/.test(text.slice(i + 1, i + 2)))))
      return text.slice(0, i);
  }
  return text;
}

/** The answer text of a completion before normalisation (see {@link extractAnswer}). */
export function rawAnswer(completion: string, strict: boolean): string {
  const minerva = completion.indexOf('final answer is $');
  if (minerva >= 0 && completion.includes('$. I hope')) {
    return completion
      .slice(minerva + 'final answer is $'.length)
      .split('$. I hope')[0]!
      .trim();
  }
  const box = strict ? /\\(?:boxed|fbox)/g : /boxed/g;
  const boxes = [...completion.matchAll(box)];
  if (boxes.length > 0) {
    const last = boxes[boxes.length - 1]!;
    const after = completion.slice(last.index + last[0].length);
    if (after === '') return '';
    return after.startsWith('{') ? boxedContent(after) : after.split('$')[0]!.trim();
  }
  for (const phrase of ['he answer is', 'final answer is']) {
    const at = completion.lastIndexOf(phrase);
    if (at < 0) continue;
    const answer = completion.slice(at + phrase.length).trim();
    return strict ? firstSentence(answer.replace(/^:\s*/, '')).trim() : answer;
  }
  const numbers = completion.replace(/,/g, '').match(/-?\d*\.?\d+/g);
  return numbers === null ? '' : numbers[numbers.length - 1]!;
}

/** Line breaks removed, a leading `:` and a trailing `.` and `/` dropped. */
function trimAnswer(raw: string): string {
  let answer = raw.replace(/\n\s*/g, '');
  if (answer.startsWith(':')) answer = answer.slice(1);
  if (answer.endsWith('.')) answer = answer.slice(0, -1);
  if (answer.endsWith('/')) answer = answer.slice(0, -1);
  return answer;
}

/**
 * The final answer of a completion, normalised ({@link normalizeAnswer}), by the harness's rules
 * in order: Minerva's `final answer is $x$. I hope`; the text after the last `boxed` (balanced
 * braces, or up to the next `$` when no brace follows); everything after the last
 * "he answer is"; after "final answer is"; else the last number (commas dropped). Line breaks are
 * removed and a leading `:`, trailing `.` or `/` dropped. `null` when nothing is left.
 *
 * `grading: 'strict'` ends an answer phrase at its sentence ("The answer is 72. I hope it is
 * correct." → `72`, where the harness reads `72Ihopeitiscorrect`) and reads `\fbox{…}` too.
 *
 * @param completion - the model's text after the prompt (GSM8K and MATH alike, as in the harness)
 * @example
 * ```ts
 * extractAnswer('So 3 + 4 = 7 apples. The answer is 7.'); // '7'
 * extractAnswer('Hence $x = \\boxed{\\dfrac12}$.');        // '\\frac{1}{2}'
 * ```
 */
export function extractAnswer(completion: string, options?: GradingOptions): string | null {
  const strict = gradingMode(options, 'extractAnswer') === 'strict';
  const normalized = normalizeAnswer(trimAnswer(rawAnswer(completion, strict)), options);
  return normalized === '' ? null : normalized;
}
