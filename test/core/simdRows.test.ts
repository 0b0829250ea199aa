// The WebAssembly SIMD path (float32 logits and results) against the float64 JavaScript path.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simdRows } from '../../src/core/simdRows.js';
import { SLMError, tokenLoss, tokenLossGrad } from '../../src/index.js';
import { expectAllClose } from '../helpers/compare.js';

const rowsCase = fc
  .record({ tokens: fc.integer({ min: 1, max: 5 }), vocab: fc.integer({ min: 1, max: 70 }) })
  .chain(({ tokens, vocab }) =>
    fc.record({
      logits: fc.array(fc.float({ min: -40, max: 40, noNaN: true }), {
        minLength: tokens * vocab,
        maxLength: tokens * vocab,
      }),
      labels: fc.array(fc.oneof(fc.integer({ min: 0, max: vocab - 1 }), fc.constant(-100)), {
        minLength: tokens,
        maxLength: tokens,
      }),
      weights: fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: tokens, maxLength: tokens }),
    }),
  );

describe('SIMD row kernels', () => {
  it('are available in this runtime', () => {
    expect(simdRows(8)).not.toBeNull();
  });

  it('tokenLoss in float32 matches the float64 path within 1e-6 (property, all vocabulary sizes mod 4)', () => {
    fc.assert(
      fc.property(rowsCase, ({ logits, labels }) => {
        const x = Float32Array.from(logits);
        const fast = tokenLoss(x, labels);
        const exact = tokenLoss(x, labels, { out: new Float64Array(labels.length) });
        expectAllClose(fast, exact, { abs: 1e-6, rel: 1e-6 });
      }),
      { numRuns: 300 },
    );
  });

  it('tokenLossGrad in float32 matches the float64 path within 1e-7 (property)', () => {
    fc.assert(
      fc.property(rowsCase, ({ logits, labels, weights }) => {
        const x = Float32Array.from(logits);
        const fast = tokenLossGrad(x, labels, weights);
        const exact = tokenLossGrad(x, labels, weights, { out: new Float64Array(x.length) });
        expectAllClose(fast, exact, { abs: 1e-7, rel: 1e-6 });
      }),
      { numRuns: 300 },
    );
  });

  it('handles overflow-sized logits, huge gaps and -Infinity entries like the float64 path', () => {
    const big = tokenLoss(new Float32Array([3e38, 3e38, 0, 1e4, 1e4 - 2, -1e4]), [0, 1]);
    expect(big[0]).toBeCloseTo(Math.LN2, 6);
    expect(big[1]).toBeCloseTo(2 + Math.log1p(Math.exp(-2)), 5);
    expect(Array.from(tokenLoss(new Float32Array([1000, -1000, 1000, -1000]), [0, 1]))).toEqual([0, 2000]);
    expect(tokenLoss(new Float32Array([0, Number.NEGATIVE_INFINITY, 0]), [0])[0]).toBeCloseTo(Math.LN2, 6);
  });

  it('reports NaN and +Infinity logits as NON_FINITE', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const logits = new Float32Array(9).fill(0.5);
      logits[6] = bad;
      expect(() => tokenLoss(logits, [2])).toThrowError(SLMError);
      expect(tokenLoss(logits, [2], { allowNonFinite: true })[0]).toBeNaN();
    }
  });

  it('are the compiled form of rowKernels.wat', () => {
    expect(execFileSync('node', ['scripts/build-wasm.mjs', '--check'], { encoding: 'utf8' })).toMatch(
      /matches/,
    );
  });
});
