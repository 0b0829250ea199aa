// Causal grouped-query self-attention. Queries are grouped per key/value head, so K and V are
// never repeated: `[B, n, KV, G, hd]` queries attend to `[B, T, KV, hd]` keys, G = H / KV.
import * as tf from '@tensorflow/tfjs';
import { customGradient } from '../tfjs/customGradient.js';
import { batchedMatMul, linear } from './ops.js';
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

/** Keys and values of earlier positions for one layer, `[B, T_past, KV, hd]` each (null when empty). */
export interface LayerCache {
  /** Rotated keys `[B, T_past, KV, hd]`. */
  keys: tf.Tensor4D | null;
  /** Values `[B, T_past, KV, hd]`. */
  values: tf.Tensor4D | null;
}

/** Shapes and tables shared by every layer of one forward pass. */
export interface AttentionContext {
  batch: number;
  /** New (query) positions in this pass, `n`. */
  positions: number;
  heads: number;
  keyValueHeads: number;
  headSize: number;
  /** RoPE tables for the new positions, `[n, hd]`. */
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  /** Query i (at position past + i) sees keys 0 … past + i: 0 there, −1e9 beyond, `[n, past + n]`. */
  causalBias: tf.Tensor2D;
}

/** An additive causal mask `[T, T]`: 0 on and below the diagonal, −1e9 above. */
export function causalBias(positions: number): tf.Tensor2D {
  const bias = new Float32Array(positions * positions);
  for (let query = 0; query < positions; query++)
    bias.fill(-1e9, query * positions + query + 1, (query + 1) * positions);
  return tf.tensor2d(bias, [positions, positions]);
}

/**
 * `softmax(q·kᵀ/√hd + bias)·v` for each key/value head and its `G` query heads, with a hand-written
 * gradient (softmax's backward `p ⊙ (dp − Σ dp ⊙ p)`, the scale folded into the smaller operands,
 * transposed operands read in place): a dozen kernels instead of autograd's chain of products,
 * transposes, scaling and softmax.
 * Shapes: `queries` `[B·KV, G·n, hd]`, `keys` and `values` `[B·KV, T, hd]`, `bias` `[n, T]`,
 * result `[B·KV, G·n, hd]`.
 */
function attend(
  queries: tf.Tensor3D,
  keys: tf.Tensor3D,
  values: tf.Tensor3D,
  bias: tf.Tensor2D,
  groups: number,
): tf.Tensor3D {
  const [heads, rows, headSize] = queries.shape;
  const positions = keys.shape[1];
  const scale = 1 / Math.sqrt(headSize);
  const attendWithGrad = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [q, k, v, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    const scaledQueries = tf.mul(q, scale) as tf.Tensor3D; // [B·KV, G·n, hd]
    const scores = tf.reshape(batchedMatMul(scaledQueries, k, false, true), [
      heads,
      groups,
      rows / groups,
      positions,
    ]); // [B·KV, G, n, T]
    const probabilities = tf.reshape(tf.softmax(tf.add(scores, bias)), [
      heads,
      rows,
      positions,
    ]) as tf.Tensor3D;
    save([scaledQueries, k, v, probabilities]);
    return {
      value: batchedMatMul(probabilities, v), // [B·KV, G·n, hd]
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedQueries, savedKeys, savedValues, savedProbabilities] = saved as tf.Tensor3D[];
        const upstream = dy as tf.Tensor3D; // [B·KV, G·n, hd]
        const probabilityGrad = batchedMatMul(upstream, savedValues!, false, true); // [B·KV, G·n, T]
        const scoreGrad = tf.mul(
          savedProbabilities!,
          tf.sub(probabilityGrad, tf.sum(tf.mul(probabilityGrad, savedProbabilities!), 2, true)),
        ) as tf.Tensor3D; // [B·KV, G·n, T]
        return [
          tf.mul(batchedMatMul(scoreGrad, savedKeys!), scale), // [B·KV, G·n, hd]
          batchedMatMul(scoreGrad, savedQueries!, true, false), // [B·KV, T, hd]
          batchedMatMul(savedProbabilities!, upstream, true, false), // [B·KV, T, hd]
        ];
      },
    };
  });
  return attendWithGrad(queries, keys, values) as tf.Tensor3D;
}

/** Appends `fresh` `[B, n, KV, hd]` to a cache slot and returns the whole sequence. */
function extend(cached: tf.Tensor4D | null, fresh: tf.Tensor4D): tf.Tensor4D {
  return cached === null ? fresh : (tf.concat([cached, fresh], 1) as tf.Tensor4D);
}

/**
 * Attention output `[B·n, D]` for normalised hidden states `x` `[B·n, D]` of `n` new positions.
 * With a `cache`, the new positions also attend to the cached ones, and their keys and values
 * are appended to it (kept out of the surrounding tidy scope).
 */
export function attention(
  x: tf.Tensor2D,
  weights: AttentionWeights,
  context: AttentionContext,
  cache?: LayerCache,
): tf.Tensor2D {
  const { batch: B, positions: n, heads: H, keyValueHeads: KV, headSize: hd } = context;
  const G = H / KV;
  const queries = tf.reshape(linear(x, weights.query), [B, n, H, hd]);
  const freshKeys = tf.reshape(linear(x, weights.key), [B, n, KV, hd]);
  // one rotation for queries and keys together: half the RoPE kernels
  const rotated = applyRope(tf.concat([queries, freshKeys], 2) as tf.Tensor4D, context.cos, context.sin);
  const [q, rotatedKeys] = tf.split(rotated, [H, KV], 2) as [tf.Tensor4D, tf.Tensor4D];
  let k = rotatedKeys;
  let v = tf.reshape(linear(x, weights.value), [B, n, KV, hd]) as tf.Tensor4D;
  if (cache !== undefined) {
    k = extend(cache.keys, k);
    v = extend(cache.values, v);
    tf.dispose([cache.keys, cache.values].filter((t): t is tf.Tensor4D => t !== null));
    cache.keys = tf.keep(k);
    cache.values = tf.keep(v);
  }
  const T = k.shape[1]; // every key position: past + n
  // Head h reads key/value head floor(h / G), as Hugging Face's repeat_kv.
  const groupedQueries = tf.reshape(tf.transpose(tf.reshape(q, [B, n, KV, G, hd]), [0, 2, 3, 1, 4]), [
    B * KV,
    G * n,
    hd,
  ]);
  const keys = tf.reshape(tf.transpose(k, [0, 2, 1, 3]), [B * KV, T, hd]);
  const values = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [B * KV, T, hd]);
  const mixed = attend(
    groupedQueries as tf.Tensor3D,
    keys as tf.Tensor3D,
    values as tf.Tensor3D,
    context.causalBias,
    G,
  ); // [B·KV, G·n, hd]
  const perToken = tf.transpose(tf.reshape(mixed, [B, KV, G, n, hd]), [0, 3, 1, 2, 4]); // [B, n, KV, G, hd]
  return linear(tf.reshape(perToken, [B * n, H * hd]), weights.output);
}
