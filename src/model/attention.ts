// Causal grouped-query self-attention. Queries are grouped per key/value head, so K and V are
// never repeated: `[B, T, KV, G, hd]` queries attend to `[B, T, KV, hd]` keys, G = H / KV.
import * as tf from '@tensorflow/tfjs';
import { linear } from './ops.js';
import { applyRope } from './rope.js';

/** The projections of one attention layer, in the internal `[in, out]` layout. */
export interface AttentionWeights {
  /** `[D, H·hd]` */
  query: tf.Tensor2D;
  /** `[D, KV·hd]` */
  key: tf.Tensor2D;
  /** `[D, KV·hd]` */
  value: tf.Tensor2D;
  /** `[H·hd, D]` */
  output: tf.Tensor2D;
}

/** Shapes and tables shared by every layer of one forward pass. */
export interface AttentionContext {
  batch: number;
  positions: number;
  heads: number;
  keyValueHeads: number;
  headSize: number;
  /** RoPE tables `[T, hd]`. */
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  /** 0 on and below the diagonal, −1e9 above, `[T, T]`. */
  causalBias: tf.Tensor2D;
}

/** An additive causal mask `[T, T]`. */
export function causalBias(positions: number): tf.Tensor2D {
  const bias = new Float32Array(positions * positions);
  for (let query = 0; query < positions; query++)
    bias.fill(-1e9, query * positions + query + 1, (query + 1) * positions);
  return tf.tensor2d(bias, [positions, positions]);
}

/** Attention output `[B·T, D]` for normalised hidden states `x` `[B·T, D]`. */
export function attention(x: tf.Tensor2D, weights: AttentionWeights, context: AttentionContext): tf.Tensor2D {
  const { batch: B, positions: T, heads: H, keyValueHeads: KV, headSize: hd } = context;
  const G = H / KV;
  const q = applyRope(tf.reshape(linear(x, weights.query), [B, T, H, hd]), context.cos, context.sin);
  const k = applyRope(tf.reshape(linear(x, weights.key), [B, T, KV, hd]), context.cos, context.sin);
  const v = tf.reshape(linear(x, weights.value), [B, T, KV, hd]);
  // Head h reads key/value head floor(h / G), as Hugging Face's repeat_kv.
  const groupedQueries = tf.reshape(tf.transpose(tf.reshape(q, [B, T, KV, G, hd]), [0, 2, 3, 1, 4]), [
    B * KV,
    G * T,
    hd,
  ]);
  const keys = tf.reshape(tf.transpose(k, [0, 2, 1, 3]), [B * KV, T, hd]);
  const values = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [B * KV, T, hd]);
  const scores = tf.reshape(tf.matMul(groupedQueries, keys, false, true), [B * KV, G, T, T]); // [B·KV, G, T, T]
  const scaled = tf.add(tf.mul(scores, 1 / Math.sqrt(hd)), context.causalBias);
  const probabilities = tf.reshape(tf.softmax(scaled), [B * KV, G * T, T]);
  const mixed = tf.matMul(probabilities, values); // [B·KV, G·T, hd]
  const perToken = tf.transpose(tf.reshape(mixed, [B, KV, G, T, hd]), [0, 3, 1, 2, 4]); // [B, T, KV, G, hd]
  return linear(tf.reshape(perToken, [B * T, H * hd]), weights.output);
}
