// RMSNorm and the SwiGLU MLP of a Llama block.
import * as tf from '@tensorflow/tfjs';
import { linear } from './ops.js';

/** `x / sqrt(mean(x²) + eps) · weight` over the last axis. Shapes: `x` `[N, D]`, `weight` `[D]`. */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  const meanSquare = tf.mean(tf.square(x), 1, true); // [N, 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight) as tf.Tensor2D;
}

/** `down(silu(gate(x)) · up(x))`. Shapes: `x` `[N, D]`, gate/up `[D, I]`, down `[I, D]`, result `[N, D]`. */
export function swiGlu(x: tf.Tensor2D, gate: tf.Tensor2D, up: tf.Tensor2D, down: tf.Tensor2D): tf.Tensor2D {
  const gated = linear(x, gate); // [N, I]
  const activated = tf.mul(gated, tf.sigmoid(gated)) as tf.Tensor2D; // silu
  return linear(tf.mul(activated, linear(x, up)) as tf.Tensor2D, down);
}
