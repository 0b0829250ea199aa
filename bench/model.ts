// Model benchmarks on wasm: training tokens/s of the demo preset and its model FLOP utilisation
// against plain 2-D matMul measured in the same run; forward-only scoring beside llama.cpp on the
// same exported model (when test/oracle is installed: npm ci --prefix test/oracle).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  exportGguf,
  LLAMA_PRESETS,
  type LlamaConfig,
  LlamaModel,
  parameterCount,
  parameterTable,
} from '../src/model/index.js';
import { createTrainStep } from '../src/tfjs/index.js';
import { fmt, medianMsAsync } from './timing.js';

/** FLOP/s of plain 2-D matMul at transformer-like sizes, the ceiling MFU is measured against. */
async function matMulFlops(): Promise<number> {
  const [m, k, n] = [1024, 128, 512];
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  tf.matMul(a, b).dispose();
  const runs = 20;
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const product = tf.matMul(a, b);
    await product.data();
    product.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  tf.dispose([a, b]);
  return (2 * m * k * n * runs) / seconds;
}

/** Training FLOPs per token: 6 per weight used in a product, plus attention (12·L·T·D). */
export function trainingFlopsPerToken(config: LlamaConfig, positions: number): number {
  const embedding = config.vocab_size * config.hidden_size;
  const productWeights =
    parameterCount(parameterTable(config)) -
    (config.tie_word_embeddings ? 0 : embedding) -
    (config.num_hidden_layers * 2 + 1) * config.hidden_size;
  return 6 * productWeights + 12 * config.num_hidden_layers * positions * config.hidden_size;
}

/** The part of node-llama-cpp this benchmark drives. */
interface LlamaCpp {
  getLlama(options: object): Promise<{
    loadModel(options: { modelPath: string }): Promise<{
      createContext(options: object): Promise<{
        getSequence(): {
          evaluateWithoutGeneratingNewTokens(tokens: number[]): Promise<void>;
          clearHistory(): Promise<void>;
        };
        dispose(): Promise<void>;
      }>;
      dispose(): Promise<void>;
    }>;
  }>;
}

async function llamaCppScoring(
  model: LlamaModel,
  batch: number,
  positions: number,
): Promise<number | string> {
  let nodeLlamaCpp: LlamaCpp;
  try {
    nodeLlamaCpp = await import(
      new URL('../test/oracle/node_modules/node-llama-cpp/dist/index.js', import.meta.url).href
    );
  } catch {
    return 'not installed (npm ci --prefix test/oracle)';
  }
  const directory = await mkdtemp(join(tmpdir(), 'rho-slm-bench-'));
  try {
    const path = join(directory, 'demo.gguf');
    await exportGguf(model, path);
    const llama = await nodeLlamaCpp.getLlama({ gpu: false, logLevel: 'error' });
    const gguf = await llama.loadModel({ modelPath: path });
    // One thread, like tfjs's wasm backend in Node. (Left to its default on this 2-core machine,
    // node-llama-cpp oversubscribes and runs 150× slower.)
    const context = await gguf.createContext({
      contextSize: positions,
      batchSize: positions,
      flashAttention: false,
      threads: 1,
    });
    const sequence = context.getSequence();
    const tokens = Array.from({ length: positions }, (_, i) => 3 + ((i * 37) % 256));
    await sequence.evaluateWithoutGeneratingNewTokens(tokens);
    await sequence.clearHistory();
    const start = performance.now();
    for (let b = 0; b < batch; b++) {
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      await sequence.clearHistory();
    }
    const rate = (batch * positions) / ((performance.now() - start) / 1000);
    await context.dispose();
    await gguf.dispose();
    return rate;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Prints the model benchmark table and returns its figures. */
export async function benchModel(): Promise<Record<string, number>> {
  const config = LLAMA_PRESETS.demo;
  const [batch, positions] = [8, config.max_position_embeddings];
  const scorer = LlamaModel.create('demo', { seed: 1 });
  const llamaRate = await llamaCppScoring(scorer, batch, positions);
  const model = LlamaModel.create('demo', { seed: 1 });
  const inputs = tf.randomUniform([batch, positions], 0, config.vocab_size, 'int32', 1);
  const labels = tf.randomUniform([batch, positions], 0, config.vocab_size, 'int32', 2);
  const refLoss = tf.fill([batch, positions], 4);
  const step = createTrainStep({ model, optimizer: tf.train.adam(1e-3), selective: { ratio: 0.6 } });
  const trainRate =
    (batch * positions * 1000) / (await medianMsAsync(() => step({ inputs, labels, refLoss }), 7));
  const peak = await matMulFlops();
  const flopsPerToken = trainingFlopsPerToken(config, positions);
  const utilisation = (flopsPerToken * trainRate) / peak;

  const forwardOnce = async () => {
    const logits = scorer.forward(inputs);
    await logits.data();
    logits.dispose();
  };
  const scoreRate = (batch * positions * 1000) / (await medianMsAsync(forwardOnce, 7));

  console.log(
    `model on ${tf.getBackend()}: demo preset (${model.parameterCount()} parameters), B=${batch} T=${positions}`,
  );
  console.log(`  plain 2-D matMul                 ${fmt(peak / 1e9)} GFLOP/s`);
  console.log(
    `  SLM training                     ${fmt(trainRate)} tokens/s × ${fmt(flopsPerToken / 1e6)} MFLOP/token = MFU ${fmt(100 * utilisation)}% (target ≥ 50%)`,
  );
  console.log(`  scoring (forward only)           ${fmt(scoreRate)} tokens/s`);
  console.log(
    typeof llamaRate === 'number'
      ? `  llama.cpp scoring, same model, 1 thread  ${fmt(llamaRate)} tokens/s   ratio ours/llama.cpp ${fmt(scoreRate / llamaRate)} (target ≥ 0.5)`
      : `  llama.cpp scoring                ${llamaRate}`,
  );
  tf.dispose([inputs, labels, refLoss]);
  model.dispose();
  scorer.dispose();
  return { trainRate, utilisation, scoreRate, ...(typeof llamaRate === 'number' ? { llamaRate } : {}) };
}
