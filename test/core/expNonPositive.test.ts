import { describe, expect, it } from 'vitest';
import { EXP_CUTOFF, expNonPositive } from '../../src/core/expNonPositive.js';

describe('expNonPositive', () => {
  it('is within 1e-13 relative of Math.exp over (cutoff, 0]', () => {
    let worst = 0;
    let worstAt = 0;
    for (let i = 0; i <= 200_000; i++) {
      const d = (EXP_CUTOFF * i) / 200_000 + (i === 200_000 ? 1e-9 : 0);
      const error = Math.abs(expNonPositive(d) / Math.exp(d) - 1);
      if (error > worst) {
        worst = error;
        worstAt = d;
      }
    }
    expect(worst, `worst at d = ${worstAt}`).toBeLessThan(1e-13);
    expect(expNonPositive(0)).toBe(1);
    expect(expNonPositive(-0)).toBe(1);
  });
});
