import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalSamples } from '../../src/model/normalInit.js';

describe('normalSamples', () => {
  it('gives tf.randomNormal’s float32 numbers bit for bit, for any size and non-zero seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom(0.02, 1, 3.5),
        (count, seed, stdDev) => {
          const ours = normalSamples(count, stdDev, seed);
          const tfjs = tf.tidy(() => tf.randomNormal([count], 0, stdDev, 'float32', seed).dataSync());
          expect(ours).toEqual(tfjs);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('has the moments of N(0, σ²)', () => {
    const values = normalSamples(200_000, 2, 11);
    let [sum, squares] = [0, 0];
    for (const value of values) {
      sum += value;
      squares += value * value;
    }
    expect(Math.abs(sum / values.length)).toBeLessThan(0.02);
    expect(Math.sqrt(squares / values.length)).toBeCloseTo(2, 1);
  });
});
