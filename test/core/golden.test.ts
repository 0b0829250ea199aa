// Every case of the float64 golden fixtures through the core, within docs/semantics.md's tolerances.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { excessLoss, selectiveLoss, tokenLoss, tokenLossGrad, topKMask } from '../../src/index.js';
import { expectAllClose, expectSameMask } from '../helpers/compare.js';
import { GOLDEN_TOLERANCE, lossCases, selectCases } from '../helpers/fixtures.js';

describe('golden select cases', () => {
  it.each(selectCases)('$name', ({ testCase }) => {
    const mask = topKMask(testCase.scores, {
      ratio: testCase.ratio,
      valid: testCase.valid,
      scope: testCase.scope,
      seqLen: testCase.T,
    });
    expectSameMask(mask, testCase.mask);
  });
});

describe('golden loss cases', () => {
  it.each(lossCases)('$name', ({ testCase }) => {
    const { ratio, scope, T, ignoreIndex, labels, refLoss } = testCase;
    const logits = Float32Array.from(testCase.logits);
    const modelLoss = tokenLoss(logits, labels, { ignoreIndex });
    expectAllClose(modelLoss, testCase.tokenLoss, { rel: GOLDEN_TOLERANCE.lossRel, abs: 1e-6 }, 'tokenLoss');

    const excess = excessLoss(modelLoss, refLoss, { labels, ignoreIndex });
    expectAllClose(excess, testCase.excess, { rel: GOLDEN_TOLERANCE.lossRel, abs: 1e-5 }, 'excess');

    const result = selectiveLoss({ modelLoss, refLoss, labels, ignoreIndex, ratio, scope, seqLen: T });
    expectSameMask(result.mask, testCase.mask, 'selectiveLoss');
    expect(result.selected).toBe(testCase.selected);
    expect(result.total).toBe(testCase.valid);
    expectAllClose([result.loss], [testCase.loss], { rel: GOLDEN_TOLERANCE.lossRel }, 'loss');

    const valid = labels.map((label) => (label === ignoreIndex ? 0 : 1));
    expectSameMask(topKMask(excess, { ratio, scope, seqLen: T, valid }), testCase.mask, 'topKMask');

    const gradLogits = tokenLossGrad(logits, labels, result.weights, { ignoreIndex });
    expectAllClose(gradLogits, testCase.gradLogits, { abs: GOLDEN_TOLERANCE.gradAbs }, 'gradLogits');
  });
});

describe('the golden fixture', () => {
  // An independent float64 implementation (plain Python) recomputes every stored output.
  const python = spawnSync('python3', ['--version']).status === 0;
  it.runIf(python)('equals what test/fixtures/golden.py computes from its inputs', () => {
    const check = spawnSync('python3', ['test/fixtures/golden.py', '--check'], { encoding: 'utf8' });
    expect(check.stdout).toMatch(/40 cases, 0 differences/);
    expect(check.status).toBe(0);
  });
});
