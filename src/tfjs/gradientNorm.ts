// The global L2 norm of a set of gradients and PyTorch-style clipping to a maximum norm, with the
// scale decided on the host so that an unclipped step multiplies nothing.
import * as tf from '@tensorflow/tfjs';
import { activeNativeBackend, typeAttribute } from './nativeBackend.js';

/**
 * The sum of scalar tensors. Not `tf.addN`: on webgpu it binds one storage buffer per input, and past
 * 7 inputs (the default limit is 8 per shader stage) its pipeline is invalid and the result garbage.
 */
export function sumScalars(scalars: tf.Tensor[]): tf.Scalar {
  return tf.sum(tf.stack(scalars));
}

/**
 * `Σ x²` over every element of every tensor, as a scalar. On the `tensorflow` backend each tensor
 * is one `L2Loss` kernel (`Σ x²/2`, no `x²` temporary), elsewhere `sum(square(x))`.
 */
function sumOfSquares(tensors: tf.Tensor[]): tf.Scalar {
  if (tensors.length === 0) return tf.scalar(0);
  const backend = activeNativeBackend();
  if (backend === undefined) return sumScalars(tensors.map((t) => tf.sum(tf.square(t))));
  const type = typeAttribute(backend, 'T', backend.binding.TF_FLOAT);
  const halves = tensors.map((t) => backend.executeSingleOutput('L2Loss', [type], [t]));
  return tf.mul(sumScalars(halves), 2);
}

/** `‖g‖₂` over all gradients, a scalar `[]`. */
export function globalNorm(gradients: tf.Tensor[]): tf.Scalar {
  return tf.sqrt(sumOfSquares(gradients));
}

/**
 * The factor `clipNorm / max(norm, clipNorm)` in float32, as `tf.div` computes it (float64
 * division of float32 values rounded once to float32 is the correctly rounded float32 quotient);
 * exactly 1 when `norm ≤ clipNorm`.
 */
export function clipScale(clipNorm: number, norm: number): number {
  const limit = Math.fround(clipNorm);
  return Math.fround(limit / Math.max(Math.fround(norm), limit));
}

/** `gradients` scaled by `scale`: new tensors, or `gradients` itself when `scale` is 1. */
export function scaleGradients(gradients: tf.NamedTensorMap, scale: number): tf.NamedTensorMap {
  if (scale === 1) return gradients;
  return tf.tidy(() =>
    Object.fromEntries(Object.entries(gradients).map(([name, gradient]) => [name, tf.mul(gradient, scale)])),
  );
}
