// Boundary validation shared by the core functions. Each check throws an SLMError whose message
// names the calling function and the argument; inner code trusts what passed.
import { SLMError } from './errors.js';

/** Anything indexable by position with numeric or boolean entries. */
export type NumericArray = ArrayLike<number>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'number') return String(value);
  return `a value of type ${typeof value}`;
}

/** Throws BAD_TYPE unless `value` is an array or typed array. */
export function checkArrayLike(value: unknown, fn: string, arg: string): asserts value is ArrayLike<unknown> {
  const isArrayLike =
    Array.isArray(value) ||
    (ArrayBuffer.isView(value) && !(value instanceof DataView)) ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { length?: unknown }).length === 'number');
  if (!isArrayLike) {
    throw new SLMError(
      'BAD_TYPE',
      `Argument '${arg}' passed to '${fn}' must be an array or typed array, got ${describe(value)}.`,
    );
  }
}

/** Throws SHAPE_MISMATCH unless `actual === expected`. */
export function checkLength(
  actual: number,
  expected: number,
  fn: string,
  arg: string,
  expectation: string,
): void {
  if (actual !== expected) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `Argument '${arg}' passed to '${fn}' has length ${actual}, expected ${expected} (${expectation}).`,
    );
  }
}

/** Throws NON_FINITE at the first NaN or infinity of `values` (only where `where[i]` is set, if given). */
export function checkFinite(
  values: NumericArray,
  fn: string,
  arg: string,
  where?: ArrayLike<number | boolean>,
): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value) && (where === undefined || where[i])) {
      throw new SLMError(
        'NON_FINITE',
        `Argument '${arg}' passed to '${fn}' has ${value} at index ${i}; expected finite numbers.`,
      );
    }
  }
}

/** Throws NON_FINITE at the first NaN of `values` (infinities are ordered, so allowed). */
export function checkNotNaN(values: NumericArray, fn: string, arg: string): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) {
      throw new SLMError(
        'NON_FINITE',
        `Argument '${arg}' passed to '${fn}' has NaN at index ${i}; expected numbers.`,
      );
    }
  }
}

/** Throws BAD_RATIO unless `ratio` is a number in (0, 1]. */
export function checkRatio(ratio: unknown, fn: string): asserts ratio is number {
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1)) {
    throw new SLMError(
      'BAD_RATIO',
      `Option \`ratio\` passed to '${fn}' is ${describe(ratio)}; expected a number in (0, 1].`,
    );
  }
}

/** Throws BAD_OPTION unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fn: string,
  option: string,
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new SLMError(
      'BAD_OPTION',
      `Option \`${option}\` passed to '${fn}' is ${JSON.stringify(value)}; expected one of ${allowed.map((a) => `'${a}'`).join(', ')}.`,
    );
  }
}

/** Throws BAD_OPTION unless `value` is a number satisfying `isAcceptable`. */
export function checkNumberOption(
  value: unknown,
  isAcceptable: (n: number) => boolean,
  fn: string,
  option: string,
  expectation: string,
): asserts value is number {
  if (typeof value !== 'number' || !isAcceptable(value)) {
    throw new SLMError(
      'BAD_OPTION',
      `Option \`${option}\` passed to '${fn}' is ${describe(value)}; expected ${expectation}.`,
    );
  }
}

/** Throws BAD_OPTION because `option` is missing where `reason` requires it. */
export function throwMissingOption(fn: string, option: string, reason: string): never {
  throw new SLMError(
    'BAD_OPTION',
    `Option \`${option}\` passed to '${fn}' is missing; it is required ${reason}.`,
  );
}

/** Throws BAD_OPTION unless `temperature` is a finite number > 0. */
export function checkTemperature(temperature: unknown, fn: string): asserts temperature is number {
  checkNumberOption(
    temperature,
    (t) => t > 0 && Number.isFinite(t),
    fn,
    'temperature',
    'a finite number > 0',
  );
}
