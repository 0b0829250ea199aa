// Labels are checked like the core's on every tfjs path and in both validate modes: float values
// are never truncated to ids, out-of-range ids never become losses.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLMError } from '../../src/index.js';
import { createTrainStep, readSelectionStats, selectiveLoss, tokenLoss } from '../../src/tfjs/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { bigramModel } from '../helpers/tinyModel.js';

const V = 4;
const logits = () =>
  tf.tensor2d(
    [
      [1, 2, 3, 4],
      [4, 3, 2, 1],
    ],
    [2, V],
  );
const refLoss = [1, 1];

/** Runs `run` and returns the SLMError code it throws (disposing nothing it returns). */
function codeOf(run: () => unknown): string | undefined {
  try {
    tf.dispose(run() as tf.TensorContainer);
  } catch (error) {
    if (error instanceof SLMError) return error.code;
    throw error;
  }
  return undefined;
}

describe.each(testBackends.filter((b) => b.backend !== 'webgpu'))('labels on $name', (config) => {
  beforeAll(() => activateBackend(config));

  it.each([true, false])(
    'selectiveLoss (validate %s): floats and out-of-range ids are errors',
    async (validate) => {
      const x = logits();
      const options = { ratio: 0.5, validate };
      expect(codeOf(() => selectiveLoss(x, [0.4, 1.6], refLoss, options))).toBe('LABEL_OUT_OF_RANGE');
      expect(codeOf(() => selectiveLoss(x, [0, V], refLoss, options))).toBe('LABEL_OUT_OF_RANGE');
      const floats = tf.tensor1d([0.4, 1.6]);
      expect(codeOf(() => selectiveLoss(x, floats, refLoss, options))).toBe('BAD_TYPE');
      const outOfRange = tf.tensor1d([0, V], 'int32');
      if (validate)
        expect(codeOf(() => selectiveLoss(x, outOfRange, refLoss, options))).toBe('LABEL_OUT_OF_RANGE');
      else {
        const result = selectiveLoss(x, outOfRange, refLoss, options);
        await expect(readSelectionStats(result.stats)).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
        tf.dispose(Object.values(result));
      }
      expect(codeOf(() => selectiveLoss(x, [0, 3], refLoss, options))).toBeUndefined();
      tf.dispose([x, floats, outOfRange]);
    },
  );

  it('tokenLoss: floats and out-of-range host ids are errors; float tensors are BAD_TYPE', () => {
    const x = logits();
    const floats = tf.tensor1d([0.4, 1.6]);
    expect(codeOf(() => tokenLoss(x, [0.4, 1.6]))).toBe('LABEL_OUT_OF_RANGE');
    expect(codeOf(() => tokenLoss(x, [-1, 0]))).toBe('LABEL_OUT_OF_RANGE');
    expect(codeOf(() => tokenLoss(x, floats))).toBe('BAD_TYPE');
    tf.dispose([x, floats]);
  });

  it('the training step refuses float label tensors and leaves the weights untouched', async () => {
    const model = bigramModel(V, 3);
    const before = model.table.dataSync().slice();
    const step = createTrainStep({ model, optimizer: tf.train.sgd(0.1), selective: { ratio: 0.5 } });
    const inputs = tf.tensor2d([[0, 1]], [1, 2], 'int32');
    const labels = tf.tensor2d([[0.4, 1.6]], [1, 2]);
    const reference = tf.tensor2d([[1, 1]], [1, 2]);
    await expect(step({ inputs, labels, refLoss: reference })).rejects.toMatchObject({ code: 'BAD_TYPE' });
    expect(model.table.dataSync()).toEqual(before);
    tf.dispose([inputs, labels, reference, model.table]);
  });
});
