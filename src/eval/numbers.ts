// Numbers as the harness reads them: Python's float() syntax and math.isclose(rel_tol=1e-4).

const DIGITS = '\\d(?:_?\\d)*';
const PYTHON_FLOAT = new RegExp(
  `^[+-]?(?:(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?|inf(?:inity)?|nan)$`,
  'i',
);

/** `text` as Python's `float()` reads it (underscores, `inf`, `nan`, exponents), else undefined. */
function pythonFloat(text: string): number | undefined {
  const trimmed = text.trim();
  if (!PYTHON_FLOAT.test(trimmed)) return undefined;
  const lower = trimmed.toLowerCase().replace(/_/g, '');
  if (lower.includes('nan')) return Number.NaN;
  if (lower.includes('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(lower);
}

/**
 * The harness's `parse_digits`: commas dropped, then Python's `float()`, or a trailing `%` (or
 * `\%`) read as ÷100. `undefined` when it is not a number.
 *
 * @example
 * ```ts
 * parseDigits('1,200');  // 1200
 * parseDigits('50\\%');  // 0.5
 * parseDigits('1/2');    // undefined
 * ```
 */
export function parseDigits(text: string): number | undefined {
  const plain = text.replace(/,/g, '');
  const value = pythonFloat(plain);
  if (value !== undefined || !plain.endsWith('%')) return value;
  const percent = pythonFloat(plain.slice(0, plain.endsWith('\\%') ? -2 : -1));
  return percent === undefined ? undefined : percent / 100;
}

/**
 * Python's `math.isclose(reference, prediction, rel_tol=1e-4)`: equal, or within 1e-4 of the larger
 * magnitude; never for NaN, infinities only when equal.
 *
 * @example
 * ```ts
 * numericEqual(100.004, 100); // true
 * numericEqual(0.333, 1 / 3); // false
 * ```
 */
export function numericEqual(prediction: number, reference: number): boolean {
  if (prediction === reference) return true;
  if (!Number.isFinite(prediction) || !Number.isFinite(reference)) return false;
  return Math.abs(prediction - reference) <= 1e-4 * Math.max(Math.abs(prediction), Math.abs(reference));
}
