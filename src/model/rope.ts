// Rotary position embedding, Hugging Face's rotate-half convention, with float32 tables computed
// the way transformers computes them (inv_freq and angles rounded to float32).
import * as tf from '@tensorflow/tfjs';
import { customGradient } from '../tfjs/customGradient.js';

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

/** `rotate_half([x1, x2]) = [−x2, x1]` over the last axis; its transpose is `[x2, −x1]`. */
function rotateHalf(x: tf.Tensor4D, transpose: boolean): tf.Tensor4D {
  const [first, second] = tf.split(x, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
  return tf.concat(transpose ? [second, tf.neg(first)] : [tf.neg(second), first], 3);
}

/**
 * `x·cos + rotate_half(x)·sin`, `rotate_half([x1, x2]) = [−x2, x1]` over the last axis, with the
 * gradient `dx = dy·cos + rotate_halfᵀ(dy·sin)` (a rotation, so no autograd chain).
 * Shapes: `x` `[B, T, heads, hd]`, `cos` and `sin` `[T, hd]`.
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const [positions, headSize] = cos.shape;
  const cosGrid = tf.reshape(cos, [1, positions, 1, headSize]);
  const sinGrid = tf.reshape(sin, [1, positions, 1, headSize]);
  const rotate = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    save([cosGrid, sinGrid]); // the tables outlive the forward pass's tidy only through save
    return {
      value: tf.add(tf.mul(input, cosGrid), tf.mul(rotateHalf(input, false), sinGrid)) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedCos, savedSin] = saved as [tf.Tensor4D, tf.Tensor4D];
        const upstream = dy as tf.Tensor4D;
        return tf.add(
          tf.mul(upstream, savedCos),
          rotateHalf(tf.mul(upstream, savedSin) as tf.Tensor4D, true),
        );
      },
    };
  });
  return rotate(x) as tf.Tensor4D;
}
