// Number words to digits, by the rules of the word2number 1.1 package that the math evaluation
// harness runs over every answer ("twenty-one" → "21", "007" → "7").

const VALUES: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  hundred: 100,
  thousand: 1000,
  million: 1_000_000,
  billion: 1_000_000_000,
};
const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const SCALES = ['billion', 'million', 'thousand'] as const;

/** word2number's grouping of up to four words below a scale ("two hundred five" → 205). */
function group(words: readonly string[]): number {
  const values = words.map((word) => VALUES[word]!);
  const [a, b, c, d] = values;
  if (a === undefined) throw new RangeError('empty group');
  if (values.length === 4) return a * b! + c! + d!;
  if (values.length === 3) return a * b! + c!;
  if (values.length === 2) return values.includes(100) ? a * b! : a + b!;
  return a;
}

/** Python's `str(float)` for the values word2number produces. */
function pythonFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function wordsToNumber(sentence: string): string {
  let words = sentence
    .trim()
    .split(/\s+/)
    .filter((word) => Object.hasOwn(VALUES, word) || word === 'point');
  if (words.length === 0) throw new RangeError('no number words');
  for (const word of [...SCALES, 'point']) {
    if (words.filter((each) => each === word).length > 1) throw new RangeError('redundant number word');
  }
  let decimals: string[] = [];
  const point = words.indexOf('point');
  if (point >= 0) {
    decimals = words.slice(point + 1);
    words = words.slice(0, point);
  }
  const [b, m, t] = SCALES.map((scale) => words.indexOf(scale)) as [number, number, number];
  if ((t > -1 && (t < m || t < b)) || (m > -1 && m < b)) throw new RangeError('malformed number');
  let total = 0;
  if (words.length === 1) total = VALUES[words[0]!]!;
  else if (words.length > 1) {
    if (b > -1) total += group(words.slice(0, b)) * 1e9;
    if (m > -1) total += group(words.slice(b > -1 ? b + 1 : 0, m)) * 1e6;
    if (t > -1) total += group(words.slice(m > -1 ? m + 1 : b > -1 ? b + 1 : 0, t)) * 1000;
    if (t > -1 && t !== words.length - 1) total += group(words.slice(t + 1));
    else if (m > -1 && m !== words.length - 1) total += group(words.slice(m + 1));
    else if (b > -1 && b !== words.length - 1) total += group(words.slice(b + 1));
    else if (t === -1 && m === -1 && b === -1) total += group(words);
  }
  if (decimals.length === 0 || decimals.some((word) => !DIGIT_WORDS.includes(word))) return String(total);
  return pythonFloat(total + Number(`0.${decimals.map((word) => VALUES[word]).join('')}`));
}

/**
 * The number an answer spells, as the harness's `convert_word_number` finds it, or the text
 * unchanged: a string of digits loses its leading zeros; otherwise the number words in it
 * (`zero` … `billion`, `point`; hyphens as spaces, any case, other words ignored) are combined.
 *
 * @example
 * ```ts
 * wordToNumber('twenty-one');     // '21'
 * wordToNumber('007');            // '7'
 * wordToNumber('9. Question: next one'); // '1' (a harness quirk: the stray "one" wins)
 * ```
 */
export function wordToNumber(text: string): string {
  const sentence = text.replace(/-/g, ' ').toLowerCase();
  if (/^[0-9]+$/.test(sentence)) return BigInt(sentence).toString();
  try {
    return wordsToNumber(sentence);
  } catch {
    return text;
  }
}
