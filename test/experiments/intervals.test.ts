import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pairedInterval, studentTCdf, studentTQuantile } from '../../src/experiments/study/intervals.js';

describe('Student t', () => {
  // Two-sided 95 % critical values from standard tables (Abramowitz & Stegun 26.10).
  it.each([
    [1, 12.7062],
    [2, 4.3027],
    [3, 3.1824],
    [4, 2.7764],
    [9, 2.2622],
    [30, 2.0423],
    [1000, 1.9623],
  ])('t(0.975, df = %i) = %f', (df, expected) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 4);
  });

  it('has the closed-form CDF at df = 1 (Cauchy) and df = 2', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (t) => {
        expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 10);
        expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 10);
      }),
    );
  });

  it('inverts its CDF and is symmetric', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 60 }),
        (p, df) => {
          expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 9);
          expect(studentTQuantile(1 - p, df)).toBeCloseTo(-studentTQuantile(p, df), 7);
        },
      ),
    );
  });
});

describe('pairedInterval', () => {
  it('gives mean ± t·s/√n and the fixed verdict words', () => {
    const interval = pairedInterval([-0.1, -0.12, -0.08]);
    expect(interval.mean).toBeCloseTo(-0.1, 12);
    const half = 4.302652729911275 * Math.sqrt(0.0004 / 3);
    expect(interval.ci95![0]).toBeCloseTo(-0.1 - half, 9);
    expect(interval.ci95![1]).toBeCloseTo(-0.1 + half, 9);
    expect(interval.verdict).toBe('holds');
    expect(pairedInterval([0.1, 0.12, 0.08]).verdict).toBe('reversed');
    expect(pairedInterval([-0.1, 0.12, 0.01]).verdict).toBe('no clear difference');
  });

  it('says no clear difference, with no interval, for fewer than two pairs', () => {
    expect(pairedInterval([-5])).toEqual({ n: 1, mean: -5, ci95: null, verdict: 'no clear difference' });
    expect(pairedInterval([]).verdict).toBe('no clear difference');
  });
});
