// Selective training with tfjs: a bigram model learns from a corpus where half the sequences are
// noise; the reference losses say which tokens are learnable, and SLM trains on the top 60%.
// Run: npx tsx examples/tfjs-training-loop.ts
import * as tf from '@tensorflow/tfjs';
import { createRandom } from 'rho-slm';
import { createTrainStep, useBackend } from 'rho-slm/tfjs';

const { backend } = await useBackend();
const V = 16; // vocabulary
const [B, T] = [8, 32]; // batch, positions
const random = createRandom(3);

// Clean rows follow the pattern id → id + 1; noisy rows are uniform. The reference model (here:
// the exact clean-text loss) finds clean tokens easy and noise hard.
function makeBatch() {
  const ids = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  const refLoss = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const noisy = b % 2 === 1;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      ids[i] = noisy ? Math.floor(random() * V) : (b + t) % V;
      labels[i] = noisy ? Math.floor(random() * V) : (ids[i]! + 1) % V;
      refLoss[i] = noisy ? Math.log(V) : 0.05;
    }
  }
  return {
    inputs: tf.tensor2d(ids, [B, T], 'int32'),
    labels: tf.tensor2d(labels, [B, T], 'int32'),
    refLoss: tf.tensor2d(refLoss, [B, T]),
  };
}

const table = tf.variable(tf.zeros([V, V]), true, 'bigram');
const forward = (ids: tf.Tensor) =>
  tf.tidy(() =>
    tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), V).toFloat(), table), [...ids.shape, V]),
  );
const step = createTrainStep({
  params: [table],
  forward,
  optimizer: tf.train.adam(0.1),
  selective: { ratio: 0.6 },
});

console.log(`backend: ${backend}`);
for (let i = 1; i <= 30; i++) {
  const batch = makeBatch();
  const stats = await step(batch);
  tf.dispose([batch.inputs, batch.labels, batch.refLoss]);
  if (i % 10 === 0) {
    console.log(
      `step ${i}: SLM loss ${stats.loss.toFixed(3)}, selected ${(100 * stats.selectedFraction).toFixed(0)}%, ` +
        `mean excess selected ${stats.meanExcessSelected.toFixed(2)} vs unselected ${stats.meanExcessUnselected.toFixed(2)}`,
    );
  }
}
