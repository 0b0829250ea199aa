import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SLMError, tokenLoss, tokenLossGrad } from '../../src/index.js';
import { expectAllClose } from '../helpers/compare.js';
import { centralDifferences } from '../helpers/gradients.js';
import { referenceTokenLoss } from '../helpers/reference.js';

const logitsCase = fc
  .record({ tokens: fc.integer({ min: 1, max: 6 }), vocab: fc.integer({ min: 1, max: 40 }) })
  .chain(({ tokens, vocab }) =>
    fc.record({
      vocab: fc.constant(vocab),
      logits: fc.array(fc.double({ min: -30, max: 30, noNaN: true }), {
        minLength: tokens * vocab,
        maxLength: tokens * vocab,
      }),
      labels: fc.array(fc.oneof(fc.integer({ min: 0, max: vocab - 1 }), fc.constant(-100)), {
        minLength: tokens,
        maxLength: tokens,
      }),
      weights: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), {
        minLength: tokens,
        maxLength: tokens,
      }),
    }),
  );

describe('tokenLoss', () => {
  it('matches a Math.exp float64 reference (property)', () => {
    fc.assert(
      fc.property(logitsCase, ({ logits, labels }) => {
        const got = tokenLoss(Float64Array.from(logits), labels, { out: new Float64Array(labels.length) });
        expectAllClose(got, referenceTokenLoss(logits, labels), { abs: 1e-12, rel: 1e-12 });
      }),
    );
  });

  it('handles overflow-sized logits without Infinity (overflow)', () => {
    const logits = new Float32Array([3e38, 3e38, 0, 1e4, 1e4 - 2, -1e4]);
    const loss = tokenLoss(logits, [0, 1]);
    expect(loss[0]).toBeCloseTo(Math.LN2, 6);
    expect(loss[1]).toBeCloseTo(2 + Math.log1p(Math.exp(-2)), 5);
  });

  it('gives exact answers across huge gaps (huge gaps)', () => {
    const loss = tokenLoss(new Float64Array([1000, -1000, 1000, -1000]), [0, 1], {
      out: new Float64Array(2),
    });
    expect(loss[0]).toBe(0);
    expect(loss[1]).toBe(2000);
  });

  it('allows -Infinity logits (masked vocabulary) off the label', () => {
    const loss = tokenLoss(new Float32Array([0, Number.NEGATIVE_INFINITY, 0]), [0]);
    expect(loss[0]).toBeCloseTo(Math.LN2, 6);
  });

  it('throws NON_FINITE for NaN logits and propagates with allowNonFinite (Propagates NaNs)', () => {
    const logits = new Float32Array([0, Number.NaN, 0, 1, 2, 3]);
    expect(() => tokenLoss(logits, [0, 1])).toThrowError(/row 0, column 1/);
    const loss = tokenLoss(logits, [0, 1], { allowNonFinite: true });
    expect(loss[0]).toBeNaN();
    expect(loss[1]).toBeCloseTo(referenceTokenLoss([1, 2, 3], [1])[0]!, 6);
  });

  it('throws NON_FINITE when the label logit is -Infinity', () => {
    const error = catchError(() => tokenLoss(new Float32Array([Number.NEGATIVE_INFINITY, 0]), [0]));
    expect(error.code).toBe('NON_FINITE');
    expect(error.message).toMatch(/logit of label 0 is -Infinity/);
  });

  it('honours a custom ignoreIndex and empty input', () => {
    expect(Array.from(tokenLoss(new Float32Array([1, 2, 3, 4]), [-1, 1], { ignoreIndex: -1 }))[0]).toBe(0);
    expect(tokenLoss(new Float32Array(0), []).length).toBe(0);
  });
});

describe('tokenLossGrad', () => {
  it('matches central finite differences of Σ w_i·loss_i in float64 (property)', () => {
    fc.assert(
      fc.property(logitsCase, ({ logits, labels, weights }) => {
        const x = Float64Array.from(logits);
        const objective = (values: Float64Array): number => {
          const loss = tokenLoss(values, labels, { out: new Float64Array(labels.length) });
          return loss.reduce((acc, l, i) => acc + weights[i]! * l, 0);
        };
        const grad = tokenLossGrad(x, labels, weights, { out: new Float64Array(x.length) });
        expectAllClose(grad, centralDifferences(objective, x), { abs: 1e-7, rel: 1e-6 });
      }),
      { numRuns: 60 },
    );
  });

  it('takes the one-pass route with the forward logsumexp and gives the same gradient (property)', () => {
    fc.assert(
      fc.property(logitsCase, ({ logits, labels, weights }) => {
        const x = Float64Array.from(logits);
        const logSumExp = new Float64Array(labels.length);
        tokenLoss(x, labels, { out: new Float64Array(labels.length), logSumExpOut: logSumExp });
        labels.forEach((label, i) => {
          if (label !== -100)
            expect(logSumExp[i]).toBeCloseTo(
              Math.log(
                x
                  .slice(i * (x.length / labels.length), (i + 1) * (x.length / labels.length))
                  .reduce((a, v) => a + Math.exp(v), 0),
              ),
              8,
            );
        });
        const onePass = tokenLossGrad(x, labels, weights, { out: new Float64Array(x.length), logSumExp });
        const threePass = tokenLossGrad(x, labels, weights, { out: new Float64Array(x.length) });
        expectAllClose(onePass, threePass, { abs: 1e-12, rel: 1e-10 });
      }),
    );
  });

  it('keeps the digits of softmax − 1 at a confident label', () => {
    const grad = tokenLossGrad(new Float32Array([20, 0]), [0], [1]);
    const p1 = 1 / (1 + Math.exp(20));
    expect(grad[0]).toBeCloseTo(-p1, 15);
    expect(Math.abs(grad[0]! + p1) / p1).toBeLessThan(1e-6);
  });

  it('writes zero rows for ignored labels and zero weights', () => {
    const grad = tokenLossGrad(new Float32Array([1, 2, 3, 4, 5, 6]), [-100, 1], [1, 0]);
    expect(Array.from(grad)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

function catchError(run: () => unknown): SLMError {
  try {
    run();
  } catch (error) {
    if (error instanceof SLMError) return error;
    throw error;
  }
  throw new Error('expected an SLMError');
}
