import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectiveLoss, softSelectionWeights, tokenLoss, tokenLossGrad, topKMask } from '../../src/index.js';
import { expectAllClose, expectSameMask } from '../helpers/compare.js';
import { centralDifferences } from '../helpers/gradients.js';

const lossCase = fc.integer({ min: 1, max: 60 }).chain((n) =>
  fc.record({
    modelLoss: fc.array(fc.double({ min: 0, max: 12, noNaN: true }), { minLength: n, maxLength: n }),
    refLoss: fc.array(fc.double({ min: 0, max: 12, noNaN: true }), { minLength: n, maxLength: n }),
    valid: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    ratio: fc.double({ min: 0.01, max: 1, noNaN: true }),
  }),
);

describe('selectiveLoss', () => {
  it('with ratio 1 equals the mean token loss over valid tokens (property)', () => {
    fc.assert(
      fc.property(lossCase, ({ modelLoss, refLoss, valid }) => {
        const result = selectiveLoss({ modelLoss, refLoss, valid, ratio: 1 });
        const validLosses = modelLoss.filter((_, i) => valid[i]);
        const mean =
          validLosses.length === 0 ? 0 : validLosses.reduce((a, b) => a + b, 0) / validLosses.length;
        expect(result.loss).toBeCloseTo(mean, 10);
        expect(result.selected).toBe(validLosses.length);
      }),
    );
  });

  it('averages the selected losses and reports the threshold (property)', () => {
    fc.assert(
      fc.property(lossCase, ({ modelLoss, refLoss, valid, ratio }) => {
        const result = selectiveLoss({ modelLoss, refLoss, valid, ratio });
        const excess = modelLoss.map((l, i) => l - refLoss[i]!);
        expectSameMask(result.mask, topKMask(excess, { ratio, valid }));
        const chosen = modelLoss.filter((_, i) => result.mask[i]);
        expect(result.selected).toBe(chosen.length);
        if (chosen.length > 0) {
          expect(result.loss).toBeCloseTo(chosen.reduce((a, b) => a + b, 0) / chosen.length, 10);
          expect(result.threshold).toBe(Math.min(...excess.filter((_, i) => result.mask[i])));
        }
        const weightSum = result.weights.reduce((a, b) => a + b, 0);
        expect(weightSum).toBeCloseTo(chosen.length > 0 ? 1 : 0, 5);
      }),
    );
  });

  it('gives loss 0, zero weights and no NaN when nothing is valid', () => {
    const result = selectiveLoss({ modelLoss: [1, 2], refLoss: [0, 0], labels: [-100, -100] });
    expect(result).toMatchObject({ loss: 0, selected: 0, total: 0, threshold: Number.POSITIVE_INFINITY });
    expect(Array.from(result.weights)).toEqual([0, 0]);
  });

  it('ignores NaN reference losses at ignored positions', () => {
    const result = selectiveLoss({
      modelLoss: [1, 0],
      refLoss: [0.5, Number.NaN],
      labels: [3, -100],
      ratio: 1,
    });
    expect(result.loss).toBe(1);
  });

  it('scope sequence equals selecting each row on its own', () => {
    const modelLoss = [3, 1, 2, 5, 0, 4, 4, 1];
    const refLoss = [0, 0, 0, 0, 1, 1, 1, 1];
    const whole = selectiveLoss({ modelLoss, refLoss, ratio: 0.5, scope: 'sequence', seqLen: 4 });
    const first = selectiveLoss({
      modelLoss: modelLoss.slice(0, 4),
      refLoss: refLoss.slice(0, 4),
      ratio: 0.5,
    });
    const second = selectiveLoss({ modelLoss: modelLoss.slice(4), refLoss: refLoss.slice(4), ratio: 0.5 });
    expect(Array.from(whole.mask)).toEqual([...first.mask, ...second.mask]);
    expect(whole.loss).toBeCloseTo((first.loss * 2 + second.loss * 2) / 4, 12);
  });

  it('its gradient through tokenLossGrad matches finite differences in float64 (property)', () => {
    const gradCase = fc.integer({ min: 2, max: 12 }).chain((vocab) =>
      fc.record({
        vocab: fc.constant(vocab),
        logits: fc.array(fc.double({ min: -6, max: 6, noNaN: true }), {
          minLength: 8 * vocab,
          maxLength: 8 * vocab,
        }),
        labels: fc.array(fc.integer({ min: 0, max: vocab - 1 }), { minLength: 8, maxLength: 8 }),
        refLoss: fc.array(fc.double({ min: 0, max: 4, noNaN: true }), { minLength: 8, maxLength: 8 }),
        output: fc.constantFrom('mask' as const, 'weights' as const),
      }),
    );
    fc.assert(
      fc.property(gradCase, ({ logits, labels, refLoss, output }) => {
        const x = Float64Array.from(logits);
        const lossOf = (values: Float64Array) =>
          tokenLoss(values, labels, { out: new Float64Array(labels.length) });
        const at = selectiveLoss({ modelLoss: lossOf(x), refLoss, labels, ratio: 0.5, output });
        // Selection is a constant of the gradient: hold the weights fixed while perturbing.
        const objective = (values: Float64Array) =>
          lossOf(values).reduce((acc, l, i) => acc + at.weights[i]! * l, 0);
        expect(objective(x)).toBeCloseTo(at.loss, 5);
        const grad = tokenLossGrad(x, labels, at.weights, { out: new Float64Array(x.length) });
        expectAllClose(grad, centralDifferences(objective, x), { abs: 1e-7, rel: 1e-6 });
      }),
      { numRuns: 50 },
    );
  });
});

describe('selection strategies', () => {
  const modelLoss = [4, 1, 3, 0.5, 2, 6];
  const refLoss = [1, 3, 3, 0.5, 0, 7];

  it("'absolute-excess' ranks by |excess| and 'model-loss' by the model loss alone", () => {
    const absolute = selectiveLoss({ modelLoss, refLoss, ratio: 0.5, strategy: 'absolute-excess' });
    expect(Array.from(absolute.mask)).toEqual([1, 1, 0, 0, 1, 0]);
    const byModel = selectiveLoss({ modelLoss, ratio: 0.5, strategy: 'model-loss' });
    expect(Array.from(byModel.mask)).toEqual([1, 0, 1, 0, 0, 1]);
  });

  it("'random' is seeded, selects exactly k, and is roughly uniform", () => {
    const n = 10;
    const counts = new Array<number>(n).fill(0);
    const losses = new Array<number>(n).fill(1);
    for (let seed = 0; seed < 2000; seed++) {
      const { mask, selected } = selectiveLoss({ modelLoss: losses, ratio: 0.3, strategy: 'random', seed });
      expect(selected).toBe(3);
      mask.forEach((m, i) => {
        counts[i]! += m;
      });
    }
    for (const count of counts) expect(Math.abs(count / 2000 - 0.3)).toBeLessThan(0.05);
    const once = selectiveLoss({ modelLoss: losses, ratio: 0.3, strategy: 'random', seed: 7 });
    const again = selectiveLoss({ modelLoss: losses, ratio: 0.3, strategy: 'random', seed: 7 });
    expectSameMask(once.mask, again.mask);
  });

  it("'sample' follows softmax(excess/τ): near-greedy at low τ, near-uniform at high τ", () => {
    const greedy = selectiveLoss({
      modelLoss,
      refLoss,
      ratio: 0.5,
      strategy: 'sample',
      temperature: 1e-3,
      seed: 3,
    });
    expectSameMask(greedy.mask, selectiveLoss({ modelLoss, refLoss, ratio: 0.5 }).mask);
    // Two tokens, excess 0 and ln 3, k = 1: the second is drawn with probability 3/4.
    let second = 0;
    for (let seed = 0; seed < 4000; seed++) {
      second += selectiveLoss({
        modelLoss: [0, Math.log(3)],
        refLoss: [0, 0],
        ratio: 0.5,
        strategy: 'sample',
        seed,
      }).mask[1]!;
    }
    expect(Math.abs(second / 4000 - 0.75)).toBeLessThan(0.03);
  });

  it("output 'weights' applies softmax(score/τ) weights that average 1 per group", () => {
    const result = selectiveLoss({ modelLoss: [1, 2], refLoss: [1, 2 - Math.log(3)], output: 'weights' });
    expectAllClose(result.weights, [0.25, 0.75], { abs: 1e-7 });
    expect(result.loss).toBeCloseTo(0.25 * 1 + 0.75 * 2, 6);
    expectAllClose(softSelectionWeights([0, Math.log(3)]), [0.5, 1.5], { abs: 1e-6 });
    const flat = selectiveLoss({ modelLoss, refLoss, output: 'weights', temperature: 1e6 });
    expect(flat.loss).toBeCloseTo(modelLoss.reduce((a, b) => a + b) / modelLoss.length, 4);
  });
});
