// Rotary position embedding, Hugging Face's rotate-half convention, with float32 tables computed
// the way transformers computes them (inv_freq and angles rounded to float32).
import * as tf from '@tensorflow/tfjs';

/** cos and sin tables `[T, hd]` for positions `0 … T−1` (the caller owns both tensors). */
export function ropeTables(
  positions: number,
  headSize: number,
  theta: number,
): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = headSize / 2;
  const cos = new Float32Array(positions * headSize);
  const sin = new Float32Array(positions * headSize);
  for (let i = 0; i < half; i++) {
    const inverseFrequency = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headSize)));
    for (let t = 0; t < positions; t++) {
      const angle = Math.fround(t * inverseFrequency);
      for (const column of [i, i + half]) {
        cos[t * headSize + column] = Math.cos(angle);
        sin[t * headSize + column] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [positions, headSize]), sin: tf.tensor2d(sin, [positions, headSize]) };
}

/**
 * `x·cos + rotate_half(x)·sin`, `rotate_half([x1, x2]) = [−x2, x1]` over the last axis.
 * Shapes: `x` `[B, T, heads, hd]`, `cos` and `sin` `[T, hd]`.
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const [positions, headSize] = cos.shape;
  const cosGrid = tf.reshape(cos, [1, positions, 1, headSize]);
  const sinGrid = tf.reshape(sin, [1, positions, 1, headSize]);
  const [first, second] = tf.split(x, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
  const rotated = tf.concat([tf.neg(second), first], 3);
  return tf.add(tf.mul(x, cosGrid), tf.mul(rotated, sinGrid)) as tf.Tensor4D;
}
