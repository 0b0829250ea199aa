// Answer normalisation: the harness's `strip_string` rules, step by step, and their strict variant.
import { type GradingOptions, gradingMode } from './grading.js';
import { wordToNumber } from './wordToNumber.js';

// Unit words the harness deletes wherever they stand alone (mostly from MathQA), each also with a
// trailing "s". They are regular expressions there, so "q ." also matches "q x".
const UNIT_WORDS = [
  'east',
  'degree',
  'mph',
  'kmph',
  'ft',
  'm sqaure',
  ' m east',
  'sq m',
  'deg',
  'mile',
  'q .',
  'monkey',
  'prime',
  'ratio',
  'profit of rs',
  'rd',
  'o',
  'gm',
  'p . m',
  'lb',
  'tile',
  'per',
  'dm',
  'lt',
  'gain',
  'ab',
  'way',
  'west',
  'a .',
  'b .',
  'c .',
  'd .',
  'e .',
  'f .',
  'g .',
  'h .',
  't',
  'a',
  'h',
  'no change',
  'men',
  'soldier',
  'pie',
  'bc',
  'excess',
  'st',
  'inches',
  'noon',
  'percent',
  'by',
  'gal',
  'kmh',
  'c',
  'acre',
  'rise',
  'a . m',
  'th',
  'π r 2',
  'sq',
  'mark',
  'l',
  'toy',
  'coin',
  'sq . m',
  'gallon',
  '° f',
  'profit',
  'minw',
  'yr',
  'women',
  'feet',
  'am',
  'pm',
  'hr',
  'cu cm',
  'square',
  'v â € ™',
  'are',
  'rupee',
  'rounds',
  'cubic',
  'cc',
  'mtr',
  's',
  'ohm',
  'number',
  'kmph',
  'day',
  'hour',
  'minute',
  'min',
  'second',
  'man',
  'woman',
  'sec',
  'cube',
  'mt',
  'sq inch',
  'mp',
  '∏ cm ³',
  'hectare',
  'more',
  'sec',
  'unit',
  'cu . m',
  'cm 2',
  'rs .',
  'rs',
  'kg',
  'g',
  'month',
  'km',
  'm',
  'cm',
  'mm',
  'apple',
  'liter',
  'loss',
  'yard',
  'pure',
  'year',
  'increase',
  'decrease',
  'd',
  'less',
  'Surface',
  'litre',
  'pi sq m',
  's .',
  'metre',
  'meter',
  'inch',
];
// Python's \W on text: anything but a Unicode letter, digit or underscore.
const NON_WORD = '[^\\p{L}\\p{N}_]';
// Each with the literal text a match must contain (before any "." wildcard), to skip most quickly.
const UNIT_PATTERNS = [...UNIT_WORDS, ...UNIT_WORDS.map((unit) => `${unit}s`)].map((unit) => ({
  literal: unit.split('.')[0]!,
  pattern: new RegExp(`(^|${NON_WORD})${unit}($|${NON_WORD})`, 'gu'),
}));
const VARIABLE_PREFIXES = ['x=', 'y=', 'z=', 'x\\in', 'y\\in', 'z\\in', 'x\\to', 'y\\to', 'z\\to'];

/** `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}` (the harness's `_fix_fracs`). */
export function fixFracs(text: string): string {
  const [head, ...pieces] = text.split('\\frac');
  let out = head!;
  for (const piece of pieces) {
    out += '\\frac';
    if (piece.startsWith('{')) out += piece;
    else if (piece.length < 2) return text;
    else if (piece[1] !== '{') out += `{${piece[0]}}{${piece[1]}}${piece.slice(2)}`;
    else out += `{${piece[0]}}${piece.slice(1)}`;
  }
  return out;
}

/** `a/b` of two plain integers (or with `sqrt` in them) → `\frac{a}{b}` (`_fix_a_slash_b`). */
export function fixSlash(text: string): string {
  const parts = text.split('/');
  if (parts.length !== 2) return text;
  const canonical = (part: string) => part.includes('sqrt') || /^(0|-?[1-9]\d*)$/.test(part);
  return canonical(parts[0]!) && canonical(parts[1]!) ? `\\frac{${parts[0]}}{${parts[1]}}` : text;
}

/** Unit words removed where they stand alone; a removal that would leave nothing is skipped. */
function dropUnitWords(text: string): string {
  let out = text;
  for (let pass = 0; pass < 2; pass++) {
    for (const { literal, pattern } of UNIT_PATTERNS) {
      if (!out.includes(literal)) continue;
      const next = out.replace(pattern, '$1$2');
      if (next !== '') out = next;
    }
  }
  return out;
}

/** Strict: only words after a leading number are units ("12 pounds" → "12"). */
function dropTrailingWords(text: string): string {
  return /^(-?[\d.,]*\d)\s*[a-zA-Z][a-zA-Z .]*$/.exec(text)?.[1] ?? text;
}

/** Strict: word numbers only when the whole answer is number words. */
function strictWordToNumber(text: string): string {
  return /^[a-zA-Z\s-]+$/.test(text) ? wordToNumber(text) : text;
}

/**
 * A canonical form of an answer, by the harness's `strip_string` rules in their order: line breaks,
 * trailing dots, `\!`, `\left`/`\right`, `\{`/`\}`, a trailing `\text{unit}`, stand-alone unit words
 * (MathQA's list: `a`, `m`, `s`, `feet`, `more`, …), degrees, dollars, number words, `\text{…}`
 * wrappers, `x=`/`y\in`-style prefixes, `\emptyset` → `{}`, `(-\infty,\infty)` → `\mathbb{R}`,
 * `%`, `inf` → `\infty`, every `and`, `\mathbf`, `\mbox{…}`, `j` → `i` (when no `i`), trailing
 * `.000`, a short `k=` prefix, `\sqrt3` → `\sqrt{3}`, spaces, `\frac12` → `\frac{1}{2}`,
 * `a/b` → `\frac{a}{b}`, `bmatrix`/`array` → `pmatrix`, `\dfrac`/`\tfrac` → `\frac`.
 *
 * `grading: 'strict'` removes unit words only after a number, `x=`-style prefixes only at the start,
 * `and` only as a word, and reads number words only when the whole answer is made of them.
 *
 * @example
 * ```ts
 * normalizeAnswer('\\dfrac12');           // '\\frac{1}{2}'
 * normalizeAnswer('5\\text{ cm}');        // '5'
 * normalizeAnswer('x = 2');               // '2'
 * normalizeAnswer('72. I hope it is correct'); // '72Ihopeitiscorrect' (harness)
 * ```
 */
export function normalizeAnswer(answer: string, options?: GradingOptions): string {
  const strict = gradingMode(options, 'normalizeAnswer') === 'strict';
  let text = answer.trim().replace(/\n/g, '').replace(/\.+$/, '').replace(/\\!/g, '');
  text = text
    .replace(/\\begin\{array\}\{.*?\}/g, '\\begin{pmatrix}')
    .replace(/\\end\{array\}/g, '\\end{pmatrix}')
    .replace(/bmatrix/g, 'pmatrix')
    .replace(/tfrac/g, 'frac')
    .replace(/dfrac/g, 'frac')
    .replace(/\\left/g, '')
    .replace(/\\right/g, '')
    .replace(/\\\{/g, '{')
    .replace(/\\\}/g, '}');
  const unitless = text.replace(/\\text\{.*?\}$/, '').trim();
  if (unitless !== '' && unitless !== text) text = unitless;
  text = strict ? dropTrailingWords(text) : dropUnitWords(text);
  text = text
    .replace(/\^\{\\circ\}/g, '')
    .replace(/\^\\circ/g, '')
    .replace(/\\\$/g, '')
    .replace(/\$/g, '');
  text = strict ? strictWordToNumber(text) : wordToNumber(text);
  text = text.replace(/\\text\{(.*?)\}/g, '$1');
  for (const prefix of VARIABLE_PREFIXES) {
    if (!strict) text = text.split(prefix).join('');
    else if (text.startsWith(prefix)) text = text.slice(prefix.length);
  }
  text = text
    .replace(/\\emptyset/g, '{}')
    .split('(-\\infty,\\infty)')
    .join('\\mathbb{R}');
  text = text.replace(/\\%/g, '').replace(/%/g, '');
  text = text.replace(/ \./g, ' 0.').replace(/\{\./g, '{0.');
  text = text.replace(/infinity/g, '\\infty');
  if (!text.includes('\\infty')) text = text.replace(/inf/g, '\\infty');
  text = strict ? text.replace(/\band\b/g, '') : text.replace(/and/g, '');
  text = text.replace(/\\mathbf/g, '').replace(/\\mbox\{.*?\}/g, '');
  if (text.includes('j') && !text.includes('i')) text = text.replace(/j/g, 'i');
  text = text.replace(/(\d+)\.0*([^\d])/g, '$1$2').replace(/(\d+)\.0*$/, '$1');
  if (text === '') return text;
  if (text.startsWith('.')) text = `0${text}`;
  const sides = text.split('=');
  if (sides.length === 2 && sides[0]!.length <= 2) text = sides[1]!;
  text = text.replace(/\\sqrt([\p{L}\p{N}_]+)/gu, '\\sqrt{$1}').replace(/ /g, '');
  return fixSlash(fixFracs(text));
}
