// tfjs benchmarks on the wasm backend: our tokenLoss forward+backward against the idiomatic tfjs
// way, and a full SLM training step against the same step with plain CLM loss.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createTrainStep, tokenLoss, useBackend, useHostKernels } from '../src/tfjs/index.js';
import { measurePeakBytes } from '../test/helpers/memoryMeter.js';
import { fmt, medianMsAsync } from './timing.js';

/** Forward + backward of the mean token loss; returns when the gradient is on the host. */
async function lossAndGrad(loss: (x: tf.Tensor) => tf.Tensor, logits: tf.Tensor): Promise<void> {
  const grad = tf.grad((x: tf.Tensor) => tf.mean(loss(x)))(logits);
  await grad.data();
  grad.dispose();
}

/** Peak tensor memory of `work` beyond what existed before it (test/helpers/memoryMeter.ts: distinct buffers). */
async function peakBytes(work: () => Promise<void>): Promise<number> {
  return (await measurePeakBytes(work)).peakBytes;
}

/** The cross-entropy benchmark's size: N tokens, V = a real tokenizer's vocabulary. */
const [TOKENS, VOCAB] = [2048, 32_000];

/** Random logits `[N, V]` and labels `[N]` of the benchmark's size (the caller disposes them). */
function lossInputs() {
  return {
    logits: tf.randomNormal([TOKENS, VOCAB], 0, 3, 'float32', 1),
    labels: tf.randomUniform([TOKENS], 0, VOCAB, 'int32', 2),
  };
}

/**
 * Peak memory of `tokenLoss` forward + backward on the active backend, N = 2048, V = 32000, in
 * multiples of the logits' bytes: every buffer alive at once beyond the logits themselves, the
 * gradient included (target ≤ 3).
 */
export async function tokenLossPeakRatio(): Promise<number> {
  const { logits, labels } = lossInputs();
  const peak = await peakBytes(() => lossAndGrad((x) => tokenLoss(x, labels), logits));
  tf.dispose([logits, labels]);
  return peak / (TOKENS * VOCAB * 4);
}

async function benchTokenLoss(): Promise<Record<string, number>> {
  const { logits, labels } = lossInputs();
  const ours = (x: tf.Tensor) => tokenLoss(x, labels);
  const idiomatic = (x: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(labels, VOCAB), x, undefined, undefined, tf.Reduction.NONE);
  const oursMs = await medianMsAsync(() => lossAndGrad(ours, logits), 5);
  const idiomaticMs = await medianMsAsync(() => lossAndGrad(idiomatic, logits), 5);
  const oursPeak = await peakBytes(() => lossAndGrad(ours, logits));
  const idiomaticPeak = await peakBytes(() => lossAndGrad(idiomatic, logits));
  useHostKernels(false);
  const tensorOpsPeak = await peakBytes(() => lossAndGrad(ours, logits));
  useHostKernels(true);
  const logitsBytes = logits.size * 4;
  const memory = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB = ${fmt(bytes / logitsBytes)}× the logits`;
  console.log(
    `tokenLoss forward+backward on ${tf.getBackend()}, N=${TOKENS} V=${VOCAB} (logits ${fmt(logitsBytes / 2 ** 20)} MiB); peak = buffers alive at once beyond the logits`,
  );
  console.log(`  rho-slm tokenLoss                        ${fmt(oursMs)} ms   peak ${memory(oursPeak)}`);
  console.log(`  rho-slm tokenLoss, tensor ops            peak ${memory(tensorOpsPeak)}`);
  console.log(
    `  softmaxCrossEntropy(oneHot(labels, V))   ${fmt(idiomaticMs)} ms   peak ${memory(idiomaticPeak)}`,
  );
  console.log(
    `  ratio ours/idiomatic: time ${fmt(oursMs / idiomaticMs)} (target ≤ 0.5), peak memory ${fmt(oursPeak / idiomaticPeak)} (target ≤ 0.5); peak ≤ 3× the logits: ${oursPeak <= 3 * logitsBytes && tensorOpsPeak <= 3 * logitsBytes ? 'yes' : 'NO'}`,
  );
  tf.dispose([logits, labels]);
  return {
    tokenLossTimeRatio: oursMs / idiomaticMs,
    tokenLossPeakRatio: oursPeak / idiomaticPeak,
    tokenLossPeakLogits: oursPeak / logitsBytes,
    tokenLossTensorOpsPeakLogits: tensorOpsPeak / logitsBytes,
  };
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
