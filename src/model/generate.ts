// Autoregressive generation with a key/value cache: greedy at temperature 0, otherwise seeded
// sampling from the temperature-scaled, nucleus-truncated distribution.
import * as tf from '@tensorflow/tfjs';
import { checkNumberOption } from '../core/check.js';
import { createRandom, type UniformRandom } from '../core/random.js';
import type { LlamaConfig } from './config.js';
import { KVCache } from './kvCache.js';

/** What generation reads of a model: its configuration and a cached forward pass. */
export interface CachedForward {
  /** The configuration (context length, layer count). */
  readonly config: LlamaConfig;
  /** Logits `[1, n, V]` of `n` new ids `[1, n]` after the cached positions. */
  forward(ids: tf.Tensor, cache: KVCache): tf.Tensor;
}

/** Options of `LlamaModel.generate`. */
export interface GenerateOptions {
  /** Most tokens to add (fewer when a stop token comes or the context is full). */
  maxNewTokens: number;
  /** Softmax temperature; 0 picks the most likely token (ties to the lower id). @default 0 */
  temperature?: number;
  /** Nucleus sampling: draw from the smallest set of tokens whose probability reaches topP. @default 1 */
  topP?: number;
  /** Token ids that end generation (not included in the result). */
  stop?: readonly number[];
  /** Seed of the sampler. @default 0 */
  seed?: number;
}

/** The next token from logits `[V]` under the options. */
export function pickToken(
  logits: Float32Array,
  temperature: number,
  topP: number,
  random: UniformRandom,
): number {
  if (temperature === 0) {
    let best = 0;
    for (let id = 1; id < logits.length; id++) if (logits[id]! > logits[best]!) best = id;
    return best;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const value of logits) if (value > max) max = value;
  const weights = Array.from(logits, (value) => Math.exp((value - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const order = weights.map((_, id) => id).sort((a, b) => weights[b]! - weights[a]! || a - b);
  const nucleus: number[] = [];
  let mass = 0;
  for (const id of order) {
    nucleus.push(id);
    mass += weights[id]! / total;
    if (mass >= topP) break;
  }
  let target = random() * nucleus.reduce((sum, id) => sum + weights[id]!, 0);
  for (const id of nucleus) {
    target -= weights[id]!;
    if (target <= 0) return id;
  }
  return nucleus[nucleus.length - 1]!;
}

/** Generates up to `maxNewTokens` tokens after `prompt` (batch of one); see {@link GenerateOptions}. */
export async function generate(
  model: CachedForward,
  prompt: ArrayLike<number>,
  options: GenerateOptions,
): Promise<number[]> {
  const fn = 'LlamaModel.generate';
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  checkNumberOption(
    options.maxNewTokens,
    (n) => Number.isInteger(n) && n >= 0,
    fn,
    'maxNewTokens',
    'an integer ≥ 0',
  );
  checkNumberOption(
    temperature,
    (t) => t >= 0 && Number.isFinite(t),
    fn,
    'temperature',
    'a finite number ≥ 0',
  );
  checkNumberOption(topP, (p) => p > 0 && p <= 1, fn, 'topP', 'a number in (0, 1]');
  checkNumberOption(
    prompt.length,
    (n) => n >= 1 && n <= model.config.max_position_embeddings,
    fn,
    'prompt.length',
    `1 … ${model.config.max_position_embeddings} tokens`,
  );
  const stop = new Set(options.stop ?? []);
  const random = createRandom(options.seed ?? 0);
  const cache = new KVCache(model.config.num_hidden_layers);
  const generated: number[] = [];
  try {
    let next: number[] = Array.from(prompt);
    while (
      generated.length < options.maxNewTokens &&
      cache.length + next.length <= model.config.max_position_embeddings
    ) {
      const ids = tf.tensor2d(next, [1, next.length], 'int32');
      const logits = model.forward(ids, cache);
      const last = tf.tidy(() => tf.reshape(tf.slice(logits, [0, next.length - 1, 0], [1, 1, -1]), [-1]));
      const row = (await last.data()) as Float32Array;
      tf.dispose([ids, logits, last]);
      const token = pickToken(row, temperature, topP, random);
      if (stop.has(token)) break;
      generated.push(token);
      next = [token];
      if (cache.length >= model.config.max_position_embeddings) break;
    }
  } finally {
    cache.dispose();
  }
  return generated;
}
