// Elementwise comparison that reports the worst index, got, want and the max difference.
import { expect } from 'vitest';

/** Tolerance: |got − want| <= abs + rel·|want|. */
export interface Tolerance {
  abs?: number;
  rel?: number;
}

/** Asserts `got` matches `want` elementwise within `tolerance`, naming the worst entry on failure. */
export function expectAllClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tolerance: Tolerance,
  label = '',
): void {
  expect(got.length, `${label} length`).toBe(want.length);
  const abs = tolerance.abs ?? 0;
  const rel = tolerance.rel ?? 0;
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i]! - want[i]!);
    if (!(diff <= maxDiff)) maxDiff = diff;
    const excess = diff - (abs + rel * Math.abs(want[i]!));
    if (!(excess <= worstExcess)) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label} index ${worst}: got ${got[worst]}, want ${want[worst]} (max |diff| ${maxDiff}, tolerance abs ${abs} rel ${rel})`,
    );
  }
}

/** Asserts two masks are identical, naming the first differing index. */
export function expectSameMask(got: ArrayLike<number>, want: ArrayLike<number>, label = ''): void {
  expect(got.length, `${label} length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i])
      expect.fail(`${label} mask differs at index ${i}: got ${got[i]}, want ${want[i]}`);
  }
}
