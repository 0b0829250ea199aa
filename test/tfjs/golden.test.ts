// Every golden fixture case through the tfjs path on every test backend: loss, mask, and the
// gradient from tf.grad, within docs/semantics.md's tolerances.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSelectionStats, selectiveLoss, tokenLoss, topKMask } from '../../src/tfjs/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose, expectSameMask } from '../helpers/compare.js';
import { GOLDEN_TOLERANCE, lossCases, selectCases } from '../helpers/fixtures.js';

describe.each(testBackends)('golden fixtures on $name', (backend) => {
  beforeAll(() => activateBackend(backend));

  it.each(selectCases)('$name', async ({ testCase }) => {
    const scores = tf.tensor2d(testCase.scores, [testCase.B, testCase.T]);
    const mask = topKMask(scores, { ratio: testCase.ratio, valid: testCase.valid, scope: testCase.scope });
    expectSameMask(await mask.data(), testCase.mask);
    tf.dispose([scores, mask]);
  });

  it.each(lossCases)('$name', async ({ testCase }) => {
    const { B, T, V, ratio, scope, ignoreIndex } = testCase;
    const logits = tf.tensor3d(testCase.logits, [B, T, V]);
    const labels = tf.tensor2d(testCase.labels, [B, T], 'int32');
    const refLoss = tf.tensor2d(testCase.refLoss, [B, T]);
    const options = { ratio, scope, ignoreIndex, validate: false };
    const result = selectiveLoss(logits, labels, refLoss, options);
    const stats = await readSelectionStats(result.stats);
    expect(stats.selected).toBe(testCase.selected);
    expect(stats.total).toBe(testCase.valid);
    expectAllClose([stats.loss], [testCase.loss], { rel: GOLDEN_TOLERANCE.lossRel }, 'loss');
    expectSameMask(await result.mask.data(), testCase.mask, 'mask');
    expectAllClose(
      await result.tokenLoss.data(),
      testCase.tokenLoss,
      { rel: GOLDEN_TOLERANCE.lossRel, abs: 1e-5 },
      'tokenLoss',
    );
    const standalone = tokenLoss(logits, labels, { ignoreIndex });
    expectAllClose(
      await standalone.data(),
      testCase.tokenLoss,
      { rel: GOLDEN_TOLERANCE.lossRel, abs: 1e-5 },
      'tokenLoss()',
    );

    const grad = tf.grad((x: tf.Tensor) => selectiveLoss(x, labels, refLoss, options).loss)(logits);
    expectAllClose(await grad.data(), testCase.gradLogits, { abs: GOLDEN_TOLERANCE.gradAbs }, 'gradLogits');
    tf.dispose([
      logits,
      labels,
      refLoss,
      grad,
      standalone,
      result.loss,
      result.mask,
      result.weights,
      result.tokenLoss,
      result.stats,
    ]);
  });
});
