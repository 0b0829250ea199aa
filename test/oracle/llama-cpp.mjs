// Independent oracle: a random GQA model exported to GGUF and evaluated by llama.cpp (through
// node-llama-cpp, F32 KV cache, no flash attention) must give the same next-token log-probabilities
// as LlamaModel.forward, within 1e-4. Run after `npm run build`:
//   npm ci --prefix test/oracle && node test/oracle/llama-cpp.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getLlama } from 'node-llama-cpp';
import { exportGguf, LlamaModel } from '../../dist/model.js';
import { silenceNodeBanner } from '../../dist/tfjs.js';

silenceNodeBanner();
await tf.setBackend('cpu');
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
const model = await (async () => {
  const seeded = LlamaModel.create(config, { seed: 21 });
  const weights = await seeded.exportWeights();
  seeded.dispose();
  for (const [name, weight] of weights) {
    for (let i = 0; i < weight.data.length; i++) {
      weight.data[i] =
        weight.shape.length === 2
          ? weight.data[i] * (name.includes('embed') ? 40 : 8)
          : 1 + 0.2 * Math.sin(i * 0.7 + name.length);
    }
  }
  return LlamaModel.fromWeights(config, weights);
})();

const directory = await mkdtemp(join(tmpdir(), 'rho-slm-oracle-'));
const path = join(directory, 'model.gguf');
await exportGguf(model, path);
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
let worst = 0;
let compared = 0;
for (const ids of sequences) {
  const sequence = context.getSequence();
  const results = await sequence.controlledEvaluate(
    ids.map((token) => [
      token,
      { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } },
    ]),
  );
  const logits = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'));
  const logProbs = await tf.logSoftmax(logits).data();
  results.forEach((result, position) => {
    const probabilities = result?.next?.probabilities;
    if (probabilities === undefined) throw new Error(`no probabilities at position ${position}`);
    if (probabilities.size !== config.vocab_size)
      throw new Error(`llama.cpp returned ${probabilities.size} of ${config.vocab_size} probabilities`);
    for (const [token, probability] of probabilities) {
      const ours = logProbs[position * config.vocab_size + token];
      if (probability < 1e-30) continue;
      worst = Math.max(worst, Math.abs(Math.log(probability) - ours));
      compared++;
    }
  });
  sequence.dispose();
}
await context.dispose();
await gguf.dispose();
await rm(directory, { recursive: true, force: true });
console.log(
  `llama.cpp oracle: ${compared} log-probabilities over ${sequences.length} sequences, max |Δ log p| = ${worst.toExponential(2)}`,
);
if (!(worst <= 1e-4)) {
  console.error('llama.cpp oracle FAILED: max |Δ log p| exceeds 1e-4');
  process.exit(1);
}
