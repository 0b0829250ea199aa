// The tensor path and the typed-array core agree on random inputs (ties included), per backend.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  selectiveLoss as coreSelectiveLoss,
  tokenLoss as coreTokenLoss,
  topKMask as coreTopKMask,
} from '../../src/index.js';
import { excessLoss, readSelectionStats, selectiveLoss, tokenLoss, topKMask } from '../../src/tfjs/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose, expectSameMask } from '../helpers/compare.js';
import { expectSLMError } from '../helpers/errors.js';

const caseArbitrary = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    seqLen: fc.integer({ min: 1, max: 9 }),
    vocab: fc.integer({ min: 2, max: 9 }),
  })
  .chain(({ batch, seqLen, vocab }) => {
    const n = batch * seqLen;
    return fc.record({
      batch: fc.constant(batch),
      seqLen: fc.constant(seqLen),
      vocab: fc.constant(vocab),
      logits: fc.array(
        fc.integer({ min: -8, max: 8 }).map((x) => x / 2),
        { minLength: n * vocab, maxLength: n * vocab },
      ),
      labels: fc.array(fc.oneof(fc.integer({ min: 0, max: vocab - 1 }), fc.constant(-100)), {
        minLength: n,
        maxLength: n,
      }),
      refLoss: fc.array(
        fc.integer({ min: 0, max: 8 }).map((x) => x / 2),
        { minLength: n, maxLength: n },
      ),
      ratio: fc.constantFrom(0.1, 0.3, 0.5, 0.6, 0.7, 1),
      scope: fc.constantFrom('batch' as const, 'sequence' as const),
      strategy: fc.constantFrom('excess' as const, 'absolute-excess' as const, 'model-loss' as const),
      output: fc.constantFrom('mask' as const, 'weights' as const),
    });
  });

/** The scores the device ranks by, rounded as float32 arithmetic rounds them. */
function float32Scores(strategy: string, modelLoss: ArrayLike<number>, refLoss: number[]): Float32Array {
  return Float32Array.from(refLoss, (ref, i) => {
    const loss = modelLoss[i]!;
    if (strategy === 'model-loss') return loss;
    const excess = Math.fround(loss - ref);
    return strategy === 'absolute-excess' ? Math.abs(excess) : excess;
  });
}

describe.each(testBackends)('tensor path agrees with the core on $name', (backend) => {
  beforeAll(() => activateBackend(backend));

  it('selectiveLoss: same mask, loss and weights (property)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const logits = tf.tensor3d(c.logits, [c.batch, c.seqLen, c.vocab]);
        const options = { ratio: c.ratio, scope: c.scope, strategy: c.strategy, output: c.output };
        const result = selectiveLoss(logits, c.labels, c.refLoss, { ...options, validate: false });
        // Selection is compared exactly on the tensor path's own float32 scores (float32 and
        // float64 token losses may order near-ties differently); losses within tolerance.
        const deviceLoss = await result.tokenLoss.data();
        expectAllClose(
          deviceLoss,
          coreTokenLoss(Float32Array.from(c.logits), c.labels),
          { abs: 1e-5, rel: 1e-5 },
          'tokenLoss',
        );
        let wantWeights: ArrayLike<number>;
        let wantLoss: number;
        if (options.output === 'mask') {
          const scores = float32Scores(options.strategy, deviceLoss, c.refLoss);
          const valid = c.labels.map((label) => (label === -100 ? 0 : 1));
          const wantMask = coreTopKMask(scores, { ratio: c.ratio, valid, scope: c.scope, seqLen: c.seqLen });
          expectSameMask(await result.mask.data(), wantMask, 'mask');
          const selected = wantMask.reduce((a, b) => a + b, 0);
          wantWeights = Array.from(wantMask, (m) => (selected === 0 ? 0 : m / selected));
          wantLoss = Array.from(deviceLoss).reduce((sum, loss, i) => sum + loss * wantWeights[i]!, 0);
        } else {
          const modelLoss = Float32Array.from(deviceLoss);
          const want = coreSelectiveLoss({
            modelLoss,
            refLoss: c.refLoss,
            labels: c.labels,
            seqLen: c.seqLen,
            ...options,
          });
          wantWeights = want.weights;
          wantLoss = want.loss;
        }
        expectAllClose(await result.weights.data(), wantWeights, { abs: 1e-6, rel: 1e-5 }, 'weights');
        expectAllClose(await result.loss.data(), [wantLoss], { abs: 1e-5, rel: 1e-5 }, 'loss');
        tf.dispose([logits, result.loss, result.mask, result.weights, result.tokenLoss, result.stats]);
      }),
      { numRuns: 60 },
    );
  });

  it('topKMask and excessLoss match the core on ties', async () => {
    const read = async (t: tf.Tensor) => Array.from(await t.data());
    const scores = tf.tensor2d([
      [2, 2, 1, 2],
      [0, 0, 0, 0],
    ]);
    expect(await read(topKMask(scores, { ratio: 0.5 }))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(await read(topKMask(scores, { ratio: 0.25 }))).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(await read(topKMask(scores, { ratio: 0.5, scope: 'sequence' }))).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(await read(excessLoss(tf.tensor1d([3, 1]), [1, 2], [1, 0]))).toEqual([2, 0]);
    scores.dispose();
  });

  it('rejects bad input with SLMError codes', async () => {
    const logits = tf.zeros([2, 3]);
    expectSLMError(() => tokenLoss([1, 2] as never, [0]), 'BAD_TYPE');
    expectSLMError(() => tokenLoss(logits, [0, 1, 2]), 'SHAPE_MISMATCH');
    expectSLMError(() => tokenLoss(logits, [0, 3]), 'LABEL_OUT_OF_RANGE');
    const badLabel = selectiveLoss(logits, tf.tensor1d([0, 7], 'int32'), [1, 1], { validate: false });
    await expect(readSelectionStats(badLabel.stats)).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
    const badReference = selectiveLoss(logits, [0, 1], [1, Number.NaN], { validate: false });
    await expect(readSelectionStats(badReference.stats)).rejects.toMatchObject({ code: 'NON_FINITE' });
    if (backend.backend !== 'webgpu') {
      // Where reads are synchronous, the default `validate` throws at once.
      expectSLMError(() => selectiveLoss(logits, tf.tensor1d([0, 7], 'int32'), [1, 1]), 'LABEL_OUT_OF_RANGE');
      expectSLMError(() => selectiveLoss(logits, [0, 1], [1, Number.NaN]), 'NON_FINITE');
    }
    expectSLMError(() => selectiveLoss(logits, [0, 1], [1, 1], { ratio: 0 }), 'BAD_RATIO');
    expectSLMError(() => selectiveLoss(logits, [0, 1], null), 'BAD_OPTION');
    expectSLMError(() => topKMask(tf.zeros([4]), { ratio: 0.5, scope: 'sequence', seqLen: 3 }), 'BAD_OPTION');
    logits.dispose();
  });
});
