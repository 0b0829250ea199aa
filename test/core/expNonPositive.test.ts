import { describe, expect, it } from 'vitest';
import { EXP_CUTOFF, expNonPositive as expWithTable, POWERS_OF_TWO } from '../../src/core/expNonPositive.js';

const expNonPositive = (d: number) => expWithTable(d, POWERS_OF_TWO);

describe('expNonPositive', () => {
  it('is within 2e-13 relative of Math.exp over (cutoff, 0]', () => {
    let worst = 0;
    let worstAt = 0;
    for (let i = 0; i <= 200_000; i++) {
      const d = ((EXP_CUTOFF + 0.01) * i) / 200_000;
      const error = Math.abs(expNonPositive(d) / Math.exp(d) - 1);
      if (error > worst) {
        worst = error;
        worstAt = d;
      }
    }
    expect(worst, `worst at d = ${worstAt}`).toBeLessThan(2e-13);
    expect(expNonPositive(0)).toBe(1);
    expect(expNonPositive(-0)).toBe(1);
    expect(expNonPositive(EXP_CUTOFF)).toBe(0);
    expect(expNonPositive(-1e300)).toBe(0);
    expect(expNonPositive(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(expNonPositive(Number.NaN)).toBeNaN();
  });
});
