// Peak memory of the token loss's forward and backward pass on every test backend: at most 3× the
// logits beyond the logits themselves (measured by test/helpers/memoryMeter.ts: distinct buffers,
// the gradient included), with the gradient checked against a float64 reference and no leaks.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenLoss } from '../../src/tfjs/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';
import { GOLDEN_TOLERANCE } from '../helpers/fixtures.js';
import { measurePeakBytes } from '../helpers/memoryMeter.js';

/** `∂ Σ w_i·loss_i / ∂ logits` in float64: `w_i · (softmax(row i) − onehot(label i))`, 0 on ignored rows. */
function referenceGradient(
  logits: Float32Array,
  labels: Int32Array,
  weights: Float32Array,
  ignoreIndex = -100,
): Float64Array {
  const vocab = logits.length / labels.length;
  const gradient = new Float64Array(logits.length);
  labels.forEach((label, row) => {
    if (label === ignoreIndex) return;
    const start = row * vocab;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[start + j]!);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp(logits[start + j]! - max);
    for (let j = 0; j < vocab; j++) {
      const probability = Math.exp(logits[start + j]! - max) / sum;
      gradient[start + j] = weights[row]! * (probability - (j === label ? 1 : 0));
    }
  });
  return gradient;
}

describe.each(testBackends)('tokenLoss memory on $name', (backend) => {
  beforeAll(() => activateBackend(backend));
  const [tokens, vocab] = [256, 4000]; // logits of 4 MB

  it('forward + backward peak ≤ 3× the logits, the gradient right, nothing leaked', async () => {
    const logits = tf.randomNormal([tokens, vocab], 0, 3, 'float32', 1);
    const labelValues = Int32Array.from({ length: tokens }, (_, i) =>
      i % 17 === 0 ? -100 : (i * 7919) % vocab,
    );
    const labels = tf.tensor1d(labelValues, 'int32');
    const weights = tf.randomUniform([tokens], 0, 1, 'float32', 2);
    const tensorsBefore = tf.memory().numTensors;
    const { result: gradient, peakBytes } = await measurePeakBytes(() =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tokenLoss(x, labels), weights)))(logits),
    );
    const logitsBytes = logits.size * 4;
    expect(peakBytes, `peak ${peakBytes / logitsBytes}× the logits`).toBeLessThanOrEqual(3 * logitsBytes);
    const want = referenceGradient(
      (await logits.data()) as Float32Array,
      labelValues,
      (await weights.data()) as Float32Array,
    );
    // rel: float32 exp on wasm (tensor ops) is off by up to ~5e-6 relative on probabilities near 0.4
    expectAllClose(await gradient.data(), want, { abs: GOLDEN_TOLERANCE.gradAbs, rel: 1e-5 }, 'gradient');
    gradient.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    tf.dispose([logits, labels, weights]);
  });
});
