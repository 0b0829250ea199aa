// RMSNorm and the SwiGLU MLP of a Llama block, each with a hand-written gradient: a few fused
// elementwise kernels instead of autograd's chain (on the native backend every kernel costs tens of
// microseconds of dispatch, which dominates a small model's step).
import * as tf from '@tensorflow/tfjs';
import { customGradient } from '../tfjs/customGradient.js';
import { linear } from './ops.js';

/**
 * Row means `[N, 1]` of `x` `[N, D]` as `sum · (1/D)`: tfjs-node's Mean kernel adds a Cast kernel to
 * every call (exact for D a power of two, within an ulp of `sum / D` otherwise).
 */
function rowMean(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.sum(x, 1, true), 1 / x.shape[1]);
}

/**
 * `x / sqrt(mean(x²) + eps) · weight` over the last axis, with the gradient
 * `dweight = Σ_rows dy · x̂`, `dx = r · (g − x̂ · mean(g · x̂))` where `r = 1/sqrt(mean(x²) + eps)`,
 * `x̂ = x · r` and `g = dy · weight`.
 * Shapes: `x` `[N, D]`, `weight` `[D]`, result `[N, D]`.
 */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  const norm = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const inverseRms = tf.rsqrt(tf.add(rowMean(tf.square(input)), eps)); // [N, 1]
    const normalized = tf.mul(input, inverseRms); // x̂ [N, D]
    save([normalized, inverseRms, scale]);
    return {
      value: tf.mul(normalized, scale),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedNormalized, savedInverseRms, savedScale] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor1D,
        ];
        const upstream = dy as tf.Tensor2D;
        const scaled = tf.mul(upstream, savedScale); // g [N, D]
        const projection = rowMean(tf.mul(scaled, savedNormalized)); // [N, 1]
        return [
          tf.mul(tf.sub(scaled, tf.mul(savedNormalized, projection)), savedInverseRms), // [N, D]
          tf.sum(tf.mul(upstream, savedNormalized), 0), // [D]
        ];
      },
    };
  });
  return norm(x, weight) as tf.Tensor2D;
}

/**
 * `silu(gate) · up` elementwise, with the gradient `dgate = dy · up · σ · (1 + gate · (1 − σ))`,
 * `dup = dy · silu(gate)`, `σ = sigmoid(gate)`. Shapes: `gate`, `up` and the result `[N, I]`.
 */
export function siluProduct(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  const product = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [gated, upper, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const sigma = tf.sigmoid(gated); // [N, I]
    const activated = tf.mul(gated, sigma); // silu [N, I]
    save([upper, sigma, activated]);
    return {
      value: tf.mul(activated, upper),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedUp, savedSigma, savedActivated] = saved as tf.Tensor2D[];
        const upstream = dy as tf.Tensor2D;
        // σ · (1 + gate · (1 − σ)) = σ + silu − silu · σ
        const siluSlope = tf.sub(tf.add(savedSigma!, savedActivated!), tf.mul(savedActivated!, savedSigma!));
        return [tf.mul(tf.mul(upstream, savedUp!), siluSlope), tf.mul(upstream, savedActivated!)];
      },
    };
  });
  return product(gate, up) as tf.Tensor2D;
}

/** `down(silu(gate(x)) · up(x))`. Shapes: `x` `[N, D]`, gate/up `[D, I]`, down `[I, D]`, result `[N, D]`. */
export function swiGlu(x: tf.Tensor2D, gate: tf.Tensor2D, up: tf.Tensor2D, down: tf.Tensor2D): tf.Tensor2D {
  return linear(siluProduct(linear(x, gate), linear(x, up)), down); // [N, I] → [N, D]
}
