import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectionCount, topKMask } from '../../src/index.js';
import { expectSameMask } from '../helpers/compare.js';
import { referenceTopKMask } from '../helpers/reference.js';

/** Scores on a coarse grid so ties are common; exact under adding a grid constant. */
const selectionCase = fc
  .record({ batch: fc.integer({ min: 1, max: 5 }), seqLen: fc.integer({ min: 1, max: 30 }) })
  .chain(({ batch, seqLen }) =>
    fc.record({
      seqLen: fc.constant(seqLen),
      scores: fc.array(
        fc.integer({ min: -8, max: 8 }).map((s) => s / 4),
        {
          minLength: batch * seqLen,
          maxLength: batch * seqLen,
        },
      ),
      valid: fc.array(fc.boolean(), { minLength: batch * seqLen, maxLength: batch * seqLen }),
      ratio: fc.oneof(fc.double({ min: 0.001, max: 1, noNaN: true }), fc.constantFrom(0.5, 0.6, 1)),
      scope: fc.constantFrom('batch' as const, 'sequence' as const),
    }),
  );

describe('topKMask', () => {
  it('equals a full stable sort by (score desc, index asc) (property)', () => {
    fc.assert(
      fc.property(selectionCase, ({ scores, valid, ratio, scope, seqLen }) => {
        const mask = topKMask(scores, { ratio, valid, scope, seqLen });
        const groupSize = scope === 'batch' ? scores.length : seqLen;
        expectSameMask(mask, referenceTopKMask(scores, ratio, valid, groupSize));
      }),
      { numRuns: 300 },
    );
  });

  it('marks exactly k valid tokens per group (property)', () => {
    fc.assert(
      fc.property(selectionCase, ({ scores, valid, ratio, seqLen }) => {
        const mask = topKMask(scores, { ratio, valid, scope: 'sequence', seqLen });
        for (let start = 0; start < scores.length; start += seqLen) {
          let marked = 0;
          let validCount = 0;
          for (let i = start; i < start + seqLen; i++) {
            marked += mask[i]!;
            validCount += valid[i] ? 1 : 0;
            if (mask[i]) expect(valid[i]).toBe(true);
          }
          expect(marked).toBe(selectionCount(validCount, ratio));
        }
      }),
    );
  });

  it('is invariant to adding a constant to every score (property)', () => {
    fc.assert(
      fc.property(selectionCase, fc.integer({ min: -100, max: 100 }), ({ scores, valid, ratio }, shift) => {
        const shifted = scores.map((s) => s + shift);
        expectSameMask(topKMask(shifted, { ratio, valid }), topKMask(scores, { ratio, valid }));
      }),
    );
  });

  it('resolves ties to the lower flat index', () => {
    expect(Array.from(topKMask([1, 1, 1, 1, 1], { ratio: 0.4 }))).toEqual([1, 1, 0, 0, 0]);
    expect(Array.from(topKMask([0, 2, 1, 2, 2], { ratio: 0.4 }))).toEqual([0, 1, 0, 1, 0]);
    expect(Array.from(topKMask([5, 5, 5, 5], { ratio: 0.5, valid: [0, 1, 0, 1] }))).toEqual([0, 1, 0, 0]);
  });

  it('orders infinities and selects nothing from an empty group', () => {
    const scores = [Number.NEGATIVE_INFINITY, 0, Number.POSITIVE_INFINITY, 1];
    expect(Array.from(topKMask(scores, { ratio: 0.5 }))).toEqual([0, 0, 1, 1]);
    expect(
      Array.from(topKMask([1, 2, 3, 4], { ratio: 1, valid: [0, 0, 1, 1], scope: 'sequence', seqLen: 2 })),
    ).toEqual([0, 0, 1, 1]);
    expect(topKMask([], { ratio: 0.5 }).length).toBe(0);
  });

  it('agrees with the sort on large adversarial inputs (sorted, reversed, all equal, organ pipe)', () => {
    const n = 20_000;
    const patterns: Record<string, (i: number) => number> = {
      ascending: (i) => i,
      descending: (i) => -i,
      equal: () => 3,
      organPipe: (i) => Math.min(i, n - i),
      fewDistinct: (i) => i % 3,
    };
    for (const [name, at] of Object.entries(patterns)) {
      const scores = Float64Array.from({ length: n }, (_, i) => at(i));
      for (const ratio of [0.001, 0.6, 0.999]) {
        expectSameMask(
          topKMask(scores, { ratio }),
          referenceTopKMask(scores, ratio, undefined, n),
          `${name} ${ratio}`,
        );
      }
    }
  });
});

describe('selectionCount', () => {
  it('rounds half up and keeps at least one', () => {
    expect(selectionCount(0, 0.6)).toBe(0);
    expect(selectionCount(1, 0.01)).toBe(1);
    expect(selectionCount(5, 0.5)).toBe(3);
    expect(selectionCount(5, 0.6)).toBe(3);
    expect(selectionCount(10, 1)).toBe(10);
    expect(selectionCount(3, 0.5)).toBe(2);
  });
});
