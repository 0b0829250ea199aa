// Independent oracle: a random GQA model exported to GGUF and evaluated by llama.cpp (through
// node-llama-cpp, F32 KV cache, no flash attention) must give the same next-token log-probabilities
// as LlamaModel.forward, within 1e-4, on every backend here (cpu, wasm, and the native tensorflow
// backend when it loads; required when RHO_SLM_TEST_TENSORFLOW=1). Run after `npm run build`:
//   npm ci --prefix test/oracle && node test/oracle/llama-cpp.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getLlama } from 'node-llama-cpp';
import { exportGguf, LlamaModel } from '../../dist/model.js';
import { useBackend } from '../../dist/tfjs.js';

const backends = ['cpu', 'wasm'];
try {
  await useBackend('tensorflow');
  backends.push('tensorflow');
} catch (error) {
  if (process.env.RHO_SLM_TEST_TENSORFLOW === '1') throw error;
  console.log(`llama.cpp oracle: native tensorflow backend not set up (${error.message})`);
}
await useBackend('cpu');
const config = {
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  intermediate_size: 160,
  vocab_size: 259,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 64,
  tie_word_embeddings: false,
};
// Larger-than-init weights so attention and the output distribution are far from uniform.
const weights = await (async () => {
  const seeded = LlamaModel.create(config, { seed: 21 });
  const exported = await seeded.exportWeights();
  seeded.dispose();
  for (const [name, weight] of exported) {
    for (let i = 0; i < weight.data.length; i++) {
      weight.data[i] =
        weight.shape.length === 2
          ? weight.data[i] * (name.includes('embed') ? 40 : 8)
          : 1 + 0.2 * Math.sin(i * 0.7 + name.length);
    }
  }
  return exported;
})();
const model = LlamaModel.fromWeights(config, weights);

const directory = await mkdtemp(join(tmpdir(), 'rho-slm-oracle-'));
const path = join(directory, 'model.gguf');
await exportGguf(model, path);
model.dispose();
const llama = await getLlama({ gpu: false, logLevel: process.env.ORACLE_LOG ?? 'error' });
const gguf = await llama.loadModel({ modelPath: path });
const context = await gguf.createContext({
  contextSize: 64,
  batchSize: 64,
  flashAttention: false,
  experimentalKvCacheKeyType: 'F32',
  experimentalKvCacheValueType: 'F32',
});

const sequences = [
  [1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100],
  [1, 3, 200, 17, 17, 17, 250, 9, 64, 128, 5, 77, 42, 99, 180, 33, 2],
  [1, 258, 0, 130, 66, 66, 12],
];
const worst = Object.fromEntries(backends.map((backend) => [backend, 0]));
let compared = 0;
for (const ids of sequences) {
  const sequence = context.getSequence();
  const results = await sequence.controlledEvaluate(
    ids.map((token) => [
      token,
      { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } },
    ]),
  );
  for (const backend of backends) {
    await useBackend(backend);
    const onBackend = LlamaModel.fromWeights(config, weights);
    const logProbs = await tf
      .tidy(() => tf.logSoftmax(onBackend.forward(tf.tensor2d(ids, [1, ids.length], 'int32'))))
      .data();
    onBackend.dispose();
    results.forEach((result, position) => {
      const probabilities = result?.next?.probabilities;
      if (probabilities === undefined) throw new Error(`no probabilities at position ${position}`);
      if (probabilities.size !== config.vocab_size)
        throw new Error(`llama.cpp returned ${probabilities.size} of ${config.vocab_size} probabilities`);
      for (const [token, probability] of probabilities) {
        const ours = logProbs[position * config.vocab_size + token];
        if (probability < 1e-30) continue;
        worst[backend] = Math.max(worst[backend], Math.abs(Math.log(probability) - ours));
        if (backend === backends[0]) compared++;
      }
    });
  }
  sequence.dispose();
}
await context.dispose();
await gguf.dispose();
await rm(directory, { recursive: true, force: true });
let failed = false;
for (const backend of backends) {
  console.log(
    `llama.cpp oracle (${backend}): ${compared} log-probabilities over ${sequences.length} sequences, max |Δ log p| = ${worst[backend].toExponential(2)}`,
  );
  if (!(worst[backend] <= 1e-4)) {
    console.error(`llama.cpp oracle FAILED on ${backend}: max |Δ log p| exceeds 1e-4`);
    failed = true;
  }
}
if (failed) process.exit(1);
