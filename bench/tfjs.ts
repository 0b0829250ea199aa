// tfjs benchmarks on the wasm backend: our tokenLoss forward+backward against the idiomatic tfjs
// way, and a full SLM training step against the same step with plain CLM loss.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createTrainStep, tokenLoss, useBackend } from '../src/tfjs/index.js';
import { fmt, medianMsAsync } from './timing.js';

/** Forward + backward of the mean token loss; returns when the gradient is on the host. */
async function lossAndGrad(loss: (x: tf.Tensor) => tf.Tensor, logits: tf.Tensor): Promise<void> {
  const grad = tf.grad((x: tf.Tensor) => tf.mean(loss(x)))(logits);
  await grad.data();
  grad.dispose();
}

async function peakBytes(work: () => Promise<void>): Promise<number> {
  const info = await tf.profile(work);
  return info.peakBytes;
}

async function benchTokenLoss(): Promise<Record<string, number>> {
  const tokens = 2048;
  const vocab = 32_000;
  const logits = tf.randomNormal([tokens, vocab], 0, 3, 'float32', 1);
  const labels = tf.randomUniform([tokens], 0, vocab, 'int32', 2);
  const ours = (x: tf.Tensor) => tokenLoss(x, labels);
  const idiomatic = (x: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(labels, vocab), x, undefined, undefined, tf.Reduction.NONE);
  const oursMs = await medianMsAsync(() => lossAndGrad(ours, logits), 5);
  const idiomaticMs = await medianMsAsync(() => lossAndGrad(idiomatic, logits), 5);
  const oursPeak = await peakBytes(() => lossAndGrad(ours, logits));
  const idiomaticPeak = await peakBytes(() => lossAndGrad(idiomatic, logits));
  const mb = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
  console.log(`tokenLoss forward+backward on ${tf.getBackend()}, N=${tokens} V=${vocab}`);
  console.log(`  rho-slm tokenLoss                        ${fmt(oursMs)} ms   peak ${mb(oursPeak)}`);
  console.log(
    `  softmaxCrossEntropy(oneHot(labels, V))   ${fmt(idiomaticMs)} ms   peak ${mb(idiomaticPeak)}`,
  );
  console.log(
    `  ratio ours/idiomatic: time ${fmt(oursMs / idiomaticMs)} (target ≤ 0.5), peak memory ${fmt(oursPeak / idiomaticPeak)} (target ≤ 0.5)`,
  );
  tf.dispose([logits, labels]);
  return { tokenLossTimeRatio: oursMs / idiomaticMs, tokenLossPeakRatio: oursPeak / idiomaticPeak };
}

/** A two-layer next-token model: frozen embedding, trainable hidden and output layers. */
function mlpLanguageModel(vocab: number, width: number) {
  const embedding = tf.randomNormal([vocab, width], 0, 1, 'float32', 3);
  const hidden = tf.variable(tf.randomNormal([width, width], 0, 0.05, 'float32', 4), true, 'bench_hidden');
  const output = tf.variable(tf.randomNormal([width, vocab], 0, 0.05, 'float32', 5), true, 'bench_output');
  return {
    forward: (ids: tf.Tensor) =>
      tf.tidy(() => {
        const x = tf.gather(embedding, tf.reshape(ids, [-1]));
        const logits = tf.matMul(tf.relu(tf.matMul(x, hidden)), output);
        return tf.reshape(logits, [...ids.shape, vocab]);
      }),
    trainableVariables: () => [hidden, output],
    dispose: () => tf.dispose([embedding, hidden, output]),
  };
}

async function benchTrainStep(): Promise<Record<string, number>> {
  const [batch, seqLen, vocab, width] = [4, 128, 4096, 128];
  const model = mlpLanguageModel(vocab, width);
  const inputs = tf.randomUniform([batch, seqLen], 0, vocab, 'int32', 6);
  const labels = tf.randomUniform([batch, seqLen], 0, vocab, 'int32', 7);
  const refLoss = tf.randomUniform([batch, seqLen], 5, 10, 'float32', 8);
  const plain = createTrainStep({ model, optimizer: tf.train.sgd(1e-3) });
  const selective = createTrainStep({ model, optimizer: tf.train.sgd(1e-3), selective: { ratio: 0.6 } });
  // Interleaved, so drift in machine load hits both alike: medians of 7 steps, 3 rounds summed.
  const rounds = 3;
  let plainMs = 0;
  let selectiveMs = 0;
  for (let round = 0; round < rounds; round++) {
    plainMs += await medianMsAsync(() => plain({ inputs, labels, refLoss }), 7);
    selectiveMs += await medianMsAsync(() => selective({ inputs, labels, refLoss }), 7);
  }
  console.log(`train step on ${tf.getBackend()}, B=${batch} T=${seqLen} V=${vocab} D=${width} (MLP LM)`);
  console.log(`  plain CLM step        ${fmt(plainMs / rounds)} ms`);
  console.log(
    `  SLM step (ratio 0.6)  ${fmt(selectiveMs / rounds)} ms   ${fmt((selectiveMs / plainMs - 1) * 100)}% slower (target ≤ 3%)`,
  );
  tf.dispose([inputs, labels, refLoss]);
  model.dispose();
  return { slmStepOverhead: selectiveMs / plainMs - 1 };
}

/** Prints the tfjs benchmark table and returns its figures. */
export async function benchTfjs(): Promise<Record<string, number>> {
  await useBackend('wasm');
  return { ...(await benchTokenLoss()), ...(await benchTrainStep()) };
}
