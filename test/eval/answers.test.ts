import { describe, expect, it } from 'vitest';
import { extractAnswer, isEquivalent, lastBoxed, normalizeAnswer } from '../../src/eval/answers.js';

const extraction: [string, string, 'gsm8k' | 'math', string | null][] = [
  ['GSM8K marker', 'She has 3 + 4 = 7.\n#### 7', 'gsm8k', '7'],
  ['GSM8K marker with comma', 'Total is 1,200.\n#### 1,200', 'gsm8k', '1,200'],
  ['GSM8K marker wins over a later number', '#### 12\nThen 99 people left.', 'gsm8k', '12'],
  ['last of two markers', '#### 3\n#### 5', 'gsm8k', '5'],
  ['marker ignored in MATH style', '#### 3 and then 8', 'math', '8'],
  ['boxed', 'Hence $x = \\boxed{5}$.', 'math', '5'],
  ['nested braces in boxed', 'so \\boxed{\\frac{1}{2}}', 'math', '\\frac{1}{2}'],
  ['last boxed of several', '\\boxed{1} then \\boxed{2}', 'math', '2'],
  ['fbox', 'answer: \\fbox{42}', 'math', '42'],
  ['unbalanced boxed falls through to the last number', 'x = \\boxed{3 and 4', 'math', '4'],
  ['boxed in GSM8K style', 'thus \\boxed{18}', 'gsm8k', '18'],
  ['the answer is', 'Adding up, the answer is 42.', 'gsm8k', '42'],
  ['The answer is, capitalised, with a colon', 'The answer is: 3/4', 'math', '3/4'],
  ['last "the answer is"', 'The answer is 1. No wait, the answer is 2.', 'gsm8k', '2'],
  ['answer phrase keeps units', 'The answer is 15 dollars.', 'gsm8k', '15 dollars'],
  ['final answer is', 'My final answer is 64', 'gsm8k', '64'],
  ['answer phrase stops at the line', 'The answer is 5\nQuestion: next', 'gsm8k', '5'],
  ['last number', 'He walks 3 miles then 4 more, 7 in all', 'gsm8k', '7'],
  ['last number with decimals', 'It costs 2.50 now', 'gsm8k', '2.50'],
  ['last negative number', 'The temperature fell to -12', 'gsm8k', '-12'],
  ['last number with dollars', 'She paid $1,250', 'gsm8k', '$1,250'],
  ['last fraction', 'so the ratio is 3/8', 'math', '3/8'],
  ['percentage', 'a rise of 25%', 'gsm8k', '25%'],
  ['no answer at all', 'I do not know.', 'gsm8k', null],
  ['empty completion', '', 'math', null],
];

const normalisation: [string, string][] = [
  ['1,234', '1234'],
  ['1,234,567.5', '1234567.5'],
  ['$42', '42'],
  ['\\$42', '42'],
  ['15 dollars', '15'],
  ['12 apples.', '12'],
  ['\\frac{3}{4}', '3/4'],
  ['\\dfrac{3}{4}', '3/4'],
  ['\\tfrac12', '1/2'],
  ['\\left( 1, 2 \\right)', '(1,2)'],
  ['50%', '50'],
  ['50\\%', '50'],
  ['007', '7'],
  ['5.0', '5'],
  ['2.50', '2.5'],
  ['\\text{5 cm}', '5'],
  ['90^\\circ', '90'],
  [' 8 ', '8'],
  ['x', 'x'],
  ['1,23', '1,23'],
];

const grading: [string, string, boolean][] = [
  ['7', '7', true],
  ['7.0', '7', true],
  ['007', '7', true],
  ['1,200', '1200', true],
  ['$1,200', '1200', true],
  ['15 dollars', '15', true],
  ['\\frac{1}{2}', '0.5', true],
  ['1/2', '\\dfrac{1}{2}', true],
  ['2/4', '1/2', true],
  ['0.333', '1/3', false],
  ['0.33333', '1/3', true],
  ['50%', '0.5', true],
  ['50%', '50', true],
  ['0.5', '50%', true],
  ['50', '0.5', false],
  ['100.004', '100', true],
  ['100.02', '100', false],
  ['(1, 2)', '(1,2)', true],
  ['(1, 2)', '(2, 1)', false],
  ['(0.5, 3)', '(\\frac{1}{2}, 3)', true],
  ['[1,2]', '(1,2)', true],
  ['(1,2,3)', '(1,2)', false],
  ['x + 1', 'x+1', true],
  ['x+1', '1+x', false],
  ['', '', false],
  ['8', '9', false],
  ['-3', '3', false],
  ['0', '0.0', true],
];

describe('extractAnswer', () => {
  it.each(extraction)('%s', (_name, completion, style, expected) => {
    expect(extractAnswer(completion, style)).toBe(expected);
  });
});

describe('normalizeAnswer', () => {
  it.each(normalisation)('%s → %s', (answer, expected) => {
    expect(normalizeAnswer(answer)).toBe(expected);
  });
});

describe('isEquivalent', () => {
  it.each(grading)('%s vs %s → %s', (predicted, reference, expected) => {
    expect(isEquivalent(predicted, reference)).toBe(expected);
  });
});

describe('lastBoxed', () => {
  it('returns null without a box', () => {
    expect(lastBoxed('no box here')).toBeNull();
  });
  it('counts at least 60 cases', () => {
    expect(extraction.length + normalisation.length + grading.length).toBeGreaterThanOrEqual(60);
  });
});
