import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  extractAnswer,
  gradeCompletion,
  isEquivalent,
  lastBoxed,
  mathEqual,
  normalizeAnswer,
  numericEqual,
  parseDigits,
  symbolicEqual,
  wordToNumber,
} from '../../src/eval/index.js';

const strict = { grading: 'strict' } as const;

describe('normalizeAnswer (strip_string rules)', () => {
  it.each([
    ['\\dfrac{3}{4}', '\\frac{3}{4}'],
    ['\\tfrac12', '\\frac{1}{2}'],
    ['\\frac1{72}', '\\frac{1}{72}'],
    ['3/4', '\\frac{3}{4}'],
    ['\\sqrt{2}/2', '\\frac{\\sqrt{2}}{2}'],
    ['03/4', '03/4'],
    ['\\sqrt3', '\\sqrt{3}'],
    ['\\left( 1, 2 \\right)', '(1,2)'],
    ['\\{1, 2\\}', '{1,2}'],
    ['5\\text{ cm}', '5'],
    ['\\text{Monday}', 'Monday'],
    ['12\\mbox{ inches}', '12'],
    ['30^\\circ', '30'],
    ['\\$1,\\!200', '1,200'],
    ['50\\%', '50'],
    ['x = 2', '2'],
    ['k=5', '5'],
    ['x\\in[2,5]', '[2,5]'],
    ['x \\in [2, 5]', 'x\\in[2,5]'],
    ['2x+3y=6', '2x+36'],
    ['\\emptyset', '{}'],
    ['(-\\infty, \\infty)', '(-\\infty,\\infty)'],
    ['(-\\infty,\\infty)', '\\mathbb{R}'],
    ['infinity', '\\infty'],
    ['3+4j', '3+4i'],
    ['18.00', '18'],
    ['.5', '0.5'],
    ['twenty-one', '21'],
    ['007', '7'],
    ['2 and 1/2', '\\frac{21}{2}'],
    ['s + t', '+'],
    ['12 pounds', '12pounds'],
    ['\\begin{bmatrix} 0 & 1 \\end{bmatrix}', '\\begin{pmatrix}0&1\\end{pmatrix}'],
    ['72. I hope it is correct', '72Ihopeitiscorrect'],
    ['', ''],
  ])('%s → %s', (answer, expected) => {
    expect(normalizeAnswer(answer)).toBe(expected);
  });

  it.each([
    ['s + t', 's+t'],
    ['12 pounds', '12'],
    ['2x + 3y = 6', '2x+3y=6'],
    ['\\text{grand}', 'grand'],
    ['9 Question: next one', '9Question:nextone'],
    ['twenty-one', '21'],
    ['5\\text{ cm}', '5'],
  ])('strict: %s → %s', (answer, expected) => {
    expect(normalizeAnswer(answer, strict)).toBe(expected);
  });

  it('rejects an unknown grading mode by name', () => {
    expect(() => normalizeAnswer('1', { grading: 'loose' as never })).toThrow(
      /Option 'grading' passed to 'normalizeAnswer' must be 'harness' or 'strict', got "loose"/,
    );
  });
});

describe('extractAnswer (extract_answer rules)', () => {
  it.each([
    ['The answer is 72.', '72'],
    ['The answer is: 36', '36'],
    ['The answer is 5 then 8. The answer is 8.', '8'],
    ['Final Answer: The final answer is $\\frac{3}{5}$. I hope it is correct.', '\\frac{3}{5}'],
    ['first $\\boxed{3}$ then $\\boxed{\\frac{1}{2}}$', '\\frac{1}{2}'],
    ['Hence \\boxed 5$ done', '5'],
    ['unbalanced \\boxed{\\frac{1}{2}$.', '\\frac{1}{2}'],
    ['She has 3 + 4 = 7 apples.', '7'],
    ['It fell to -12 degrees', '-12'],
    ['Total is 1,250.75', '1250.75'],
    ['my final answer is 64', '64'],
    ['The answer is 18. I hope it is correct.', '18Ihopeitiscorrect'],
    ['The answer is \\fbox{6}', '\\fbox{6}'],
  ])('%s → %s', (completion, expected) => {
    expect(extractAnswer(completion)).toBe(expected);
  });

  it('returns null when nothing is left', () => {
    expect(extractAnswer('I do not know.')).toBeNull();
    expect(extractAnswer('So $\\boxed{}$.')).toBeNull();
    expect(extractAnswer('')).toBeNull();
  });

  it.each([
    ['The answer is 18. I hope it is correct.', '18'],
    ['The answer is 9. Question: next one', '9'],
    ['The answer is \\fbox{6}', '6'],
    ['The answer is 12\nQuestion: more', '12'],
    ['The answer is $\\frac{3}{\n2}$.', '\\frac{3}{2}'],
    ['The answer is 2.5.', '2.5'],
  ])('strict: %s → %s', (completion, expected) => {
    expect(extractAnswer(completion, strict)).toBe(expected);
  });

  it('lastBoxed reads balanced braces and refuses an unbalanced box', () => {
    expect(lastBoxed('a \\boxed{\\frac{1}{2}} b \\fbox{7}')).toBe('7');
    expect(lastBoxed('\\boxed{\\frac{1}{2}')).toBeNull();
    expect(lastBoxed('no box')).toBeNull();
  });
});

describe('mathEqual (math_equal rules)', () => {
  it.each([
    ['72', '72', true],
    ['1,200', '1200', true],
    ['2500', '25', true],
    ['0.25', '25', true],
    ['300', '3', true],
    ['100.004', '100', true],
    ['100.02', '100', false],
    ['0.333', '\\frac{1}{3}', false],
    ['0.3333', '\\frac{1}{3}', true],
    ['C', '(C)', true],
    ['(C)', 'c', true],
    ['(1,2)', '(1,2)', true],
    ['(2,1)', '(1,2)', false],
    ['[1,2]', '(1,2)', true],
    ['(0.6,2.6667]', '(\\frac{3}{5},\\frac{8}{3}]', true],
    ['\\begin{pmatrix}1/2\\\\-3\\end{pmatrix}', '\\begin{pmatrix}\\frac{1}{2}\\\\-3\\end{pmatrix}', true],
    ['\\begin{pmatrix}2\\\\1\\end{pmatrix}', '\\begin{pmatrix}1\\\\2\\end{pmatrix}', false],
    ['-2x-3y+z-1=0', '2x+3y-z+1=0', true],
    ['a=7', '7', true],
    ['7', 'n=7', true],
    ['1000(26)', '26000', true],
    ['\\\\frac{3}{2}', '\\frac{3}{2}', true],
    ['{1,2}', '{2,1}', true],
    ['', '', true],
    ['', '0', false],
  ])('%s vs %s → %s', (prediction, reference, expected) => {
    expect(mathEqual(prediction, reference)).toBe(expected);
  });

  it('strict: no percentage rule unless asked, intervals keep their brackets', () => {
    expect(mathEqual('2500', '25', strict)).toBe(false);
    expect(mathEqual('0.25', '25', { ...strict, includePercentage: true })).toBe(true);
    expect(mathEqual('[1,2]', '(1,2)', strict)).toBe(false);
    expect(mathEqual('(1,2)', '(1,2.00001)', strict)).toBe(true);
  });

  it('numbers: Python float syntax and isclose(rel_tol=1e-4)', () => {
    expect(parseDigits('1,234.5')).toBe(1234.5);
    expect(parseDigits('1_000')).toBe(1000);
    expect(parseDigits('1.5e3')).toBe(1500);
    expect(parseDigits('50\\%')).toBe(0.5);
    expect(parseDigits('-inf')).toBe(-Infinity);
    expect(parseDigits('1/2')).toBeUndefined();
    expect(parseDigits('.')).toBeUndefined();
    expect(numericEqual(Infinity, Infinity)).toBe(true);
    expect(numericEqual(Number.NaN, Number.NaN)).toBe(false);
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (a, b) => {
          expect(numericEqual(a, b)).toBe(numericEqual(b, a));
          expect(numericEqual(a, b)).toBe(
            a === b || Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), Math.abs(b)),
          );
        },
      ),
    );
  });
});

describe('symbolicEqual', () => {
  it.each([
    ['2\\sqrt{3}', '\\sqrt{12}', true],
    ['3\\sqrt{2}', '2\\sqrt{3}', false],
    ['\\frac{\\sqrt{6}}{4}', '0.6124', true],
    ['16\\pi', '\\pi\\cdot16', true],
    ['50.27', '16\\pi', false],
    ['2^{10}', '1024', true],
    ['10^-2', '10', true],
    ['\\sqrt[3]{2}', '2^{1/3}', true],
    ['5!', '120', true],
    ['\\binom{5}{2}', '10', true],
    ['\\log_28', '3', true],
    ['1/2x', '\\frac{1}{2x}', true],
    ['\\frac{1}{2}x', 'x/2', true],
    ['x^2+2x+1', '(x+1)^2', true],
    ['x^2+2x+2', '(x+1)^2', false],
    ['\\sin^2 x+\\cos^2 x', '1', true],
    ['\\sqrt{x^2}', 'x', false],
    ['e^{i\\pi}', '-1', false],
    ['1,2', '1,3', true],
    ['3:00', '3', false],
    ['\\text{Monday}', '\\text{Sunday}', false],
    ['1.', '1.', true],
    ['1.', '1', false],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(symbolicEqual(a, b)).toBe(expected);
  });

  it('matches a factored quadratic to its expansion, and not to a perturbed one', () => {
    fc.assert(
      fc.property(fc.integer({ min: -9, max: 9 }), fc.integer({ min: -9, max: 9 }), (p, q) => {
        const sign = (n: number) => (n < 0 ? `-${-n}` : `+${n}`);
        const expanded = `x^2${sign(p + q)}x${sign(p * q)}`;
        expect(symbolicEqual(`(x${sign(p)})(x${sign(q)})`, expanded)).toBe(true);
        expect(symbolicEqual(`(x${sign(p)})(x${sign(q + 1)})`, expanded)).toBe(false);
      }),
    );
  });
});

describe('wordToNumber (word2number rules)', () => {
  it.each([
    ['twenty-one', '21'],
    ['one hundred and five', '105'],
    ['two thousand three hundred', '2300'],
    ['three point five', '3.5'],
    ['three point zero', '3.0'],
    ['000123', '123'],
    ['12345678901234567890', '12345678901234567890'],
    ['constructor', 'constructor'],
    ['no number here', 'no number here'],
    ['thousand thousand', 'thousand thousand'],
  ])('%s → %s', (text, expected) => {
    expect(wordToNumber(text)).toBe(expected);
  });
});

describe('gradeCompletion and isEquivalent', () => {
  it('grades like the harness by default and fixes its bugs in strict mode', () => {
    const completion = 'So she makes 72 dollars.\nThe answer is 72. I hope it is correct.';
    expect(gradeCompletion(completion, '72', 'gsm8k')).toEqual({
      extracted: '72Ihopeitiscorrect',
      reference: '72',
      correct: false,
    });
    expect(gradeCompletion(completion, '72', 'gsm8k', strict).correct).toBe(true);
    expect(gradeCompletion('The answer is 2500', '25', 'gsm8k').correct).toBe(true);
    expect(gradeCompletion('The answer is 2500', '25', 'gsm8k', strict).correct).toBe(false);
    expect(gradeCompletion('The answer is 25%', '0.25', 'gsm8k', strict).correct).toBe(true);
    expect(gradeCompletion('So $\\boxed{\\text{(C)}}$.', 'C', 'math').correct).toBe(true);
  });

  it('isEquivalent normalises both sides', () => {
    expect(isEquivalent('\\frac{1}{2}', '0.5')).toBe(true);
    expect(isEquivalent('x = 2', '2')).toBe(true);
    expect(isEquivalent('$1,200', '1200')).toBe(true);
    expect(isEquivalent('50', '0.5', strict)).toBe(false);
    expect(isEquivalent('50%', '0.5', strict)).toBe(true);
  });
});

describe('robustness', () => {
  const pieces = [
    '\\frac',
    '\\sqrt',
    '{',
    '}',
    '(',
    ')',
    '[',
    ']',
    '^',
    '_',
    '1',
    '2',
    '0',
    '.',
    ',',
    'x',
    'a',
    '=',
    '-',
    '+',
    '/',
    '\\pi',
    '\\boxed',
    '$',
    ' ',
    '\\\\',
    '\\text',
    '%',
    '\\left',
    '!',
    '|',
    'The answer is ',
    '\n',
    'and',
    'one',
    '\\begin{pmatrix}',
    '\\end{pmatrix}',
    '&',
    ':',
    '\\cdot',
    '\\log_',
    'e',
    'i',
    'j',
  ];
  const latexish = fc.array(fc.constantFrom(...pieces), { maxLength: 25 }).map((parts) => parts.join(''));

  it('never throws on LaTeX-like noise, and every normalised answer equals itself', () => {
    fc.assert(
      fc.property(latexish, latexish, (completion, answer) => {
        gradeCompletion(completion, answer, 'math');
        gradeCompletion(completion, answer, 'gsm8k', strict);
        const normalized = normalizeAnswer(completion);
        expect(mathEqual(normalized, normalized)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('does not compare answers over 1000 characters symbolically (the harness times out on them)', () => {
    const long = `${'x+'.repeat(50_000)}1`;
    expect(symbolicEqual(long, `${long}+0`)).toBe(false);
    expect(isEquivalent(long, long)).toBe(true);
  });
});
