// Answer extraction and grading for math word problems: the rules of Rho-1's math evaluation
// harness, rewritten. No symbolic algebra: exact match after normalisation, numbers within 1e-4,
// simple fractions and tuples.

/** Prompt and answer layout: GSM8K (`#### 42`) or MATH (`\boxed{…}`). */
export type AnswerStyle = 'gsm8k' | 'math';

/** The content of the last `\boxed{…}` (or `\fbox{…}`) with balanced braces, if any. */
export function lastBoxed(text: string): string | null {
  const start = Math.max(text.lastIndexOf('\\boxed'), text.lastIndexOf('\\fbox'));
  if (start < 0) return null;
  const open = text.indexOf('{', start);
  if (open < 0) return null;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  return null;
}

const NUMBER = /-?\$?\d[\d,]*(?:\.\d+)?(?:\s*\/\s*\d+)?%?|-?\$?\.\d+%?/g;

function afterPhrase(text: string, phrase: RegExp): string | null {
  let found: string | null = null;
  for (const match of text.matchAll(phrase)) found = match[1] ?? null;
  if (found === null) return null;
  return found.trim() || null;
}

/**
 * The final answer of a completion, trying in order: (GSM8K) `#### x`; the last `\boxed{…}`;
 * "The answer is x"; "final answer is x"; the last number in the text. `null` when none applies.
 *
 * @param completion - the model's text after the prompt
 * @param style - `'gsm8k'` or `'math'`
 * @example
 * ```ts
 * extractAnswer('So she has 3 + 4 = 7 apples. The answer is 7.', 'gsm8k'); // '7'
 * ```
 */
export function extractAnswer(completion: string, style: AnswerStyle): string | null {
  if (style === 'gsm8k') {
    const marked = afterPhrase(completion, /####\s*([^\n]*?)(?=\.\s|\.$|\n|$)/g);
    if (marked !== null) return marked;
  }
  const boxed = lastBoxed(completion);
  if (boxed !== null) return boxed.trim();
  // Up to the end of the sentence or line (a '.' inside a number such as 2.50 does not end it).
  const answer =
    afterPhrase(completion, /the answer is[:\s]*([^\n]*?)(?=\.\s|\.$|\n|$)/gi) ??
    afterPhrase(completion, /final answer is[:\s]*([^\n]*?)(?=\.\s|\.$|\n|$)/gi);
  if (answer !== null) return answer;
  const numbers = completion.match(NUMBER);
  return numbers === null ? null : numbers[numbers.length - 1]!.trim();
}

function unwrapCommand(text: string, command: string): string {
  let out = text;
  for (;;) {
    const start = out.indexOf(`\\${command}{`);
    if (start < 0) return out;
    const open = start + command.length + 1;
    let depth = 0;
    let close = -1;
    for (let i = open; i < out.length; i++) {
      if (out[i] === '{') depth++;
      else if (out[i] === '}' && --depth === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) return out;
    out = out.slice(0, start) + out.slice(open + 1, close) + out.slice(close + 1);
  }
}

/**
 * A canonical form of an answer: no `$`, spaces, `\left`/`\right`, `\text{…}` wrappers or
 * trailing units and words; thousands separators and `%` removed; `\frac{a}{b}` and `\dfrac` as
 * `a/b`; leading zeros and a trailing `.0` dropped.
 *
 * @example
 * ```ts
 * normalizeAnswer('$1,250.00 dollars'); // '1250'
 * ```
 */
export function normalizeAnswer(answer: string): string {
  let text = answer.trim();
  text = unwrapCommand(unwrapCommand(unwrapCommand(text, 'text'), 'mbox'), 'mathrm');
  text = text
    .replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, '($1)/($2)')
    .replace(/\\[dt]?frac(\d)(\d)/g, '$1/$2');
  text = text.replace(/\\left|\\right|\\!|\\,|\\;|\\\$|\$|\\%|%/g, '');
  text = text.replace(/\^\{?\\circ\}?|°/g, '');
  text = text.replace(/\s+/g, '');
  text = text.replace(/\((-?\d+(?:\.\d+)?)\)\/\((\d+(?:\.\d+)?)\)/g, '$1/$2');
  // A number followed by words (units): keep the number.
  const leading = /^(-?[\d,]*\.?\d+(?:\/\d+)?)[a-zA-Z].*$/.exec(text);
  if (leading !== null) text = leading[1]!;
  text = text.replace(/\.$/, '');
  // Thousands separators: only in numbers with groups of three.
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text)) text = text.replace(/,/g, '');
  text = text.replace(/(^|[^\d.])0+(\d)/g, '$1$2');
  text = text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return text;
}

function numericValue(text: string): number | undefined {
  if (/^-?\d+(\.\d+)?$|^-?\.\d+$/.test(text)) return Number(text);
  const fraction = /^(-?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(text);
  if (fraction !== null && Number(fraction[2]) !== 0) return Number(fraction[1]) / Number(fraction[2]);
  return undefined;
}

function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), Math.abs(b)) || a === b;
}

function tupleItems(text: string): string[] | undefined {
  const match = /^[([](.*)[)\]]$/.exec(text);
  return match === null || !match[1]!.includes(',') ? undefined : match[1]!.split(',');
}

/**
 * Whether a predicted answer matches the reference: equal after {@link normalizeAnswer}, or equal
 * as numbers within relative 1e-4 (a percentage may also match its value ÷100 or ×100), or as
 * simple fractions, or element by element as tuples. No symbolic algebra beyond that.
 *
 * @example
 * ```ts
 * isEquivalent('\\frac{1}{2}', '0.5'); // true
 * isEquivalent('50%', '0.5');          // true
 * ```
 */
export function isEquivalent(predicted: string, reference: string): boolean {
  const a = normalizeAnswer(predicted);
  const b = normalizeAnswer(reference);
  if (a === b) return a !== '';
  const x = numericValue(a);
  const y = numericValue(b);
  if (x !== undefined && y !== undefined) {
    if (closeEnough(x, y)) return true;
    const percent = /%/.test(predicted) || /%/.test(reference);
    return percent && (closeEnough(x, y * 100) || closeEnough(x * 100, y));
  }
  const left = tupleItems(a);
  const right = tupleItems(b);
  if (left !== undefined && right !== undefined) {
    return left.length === right.length && left.every((item, i) => isEquivalent(item, right[i]!));
  }
  return false;
}
