// tf.customGrad for training at scale: a gradient function's temporaries and the tensors it saved
// are freed as soon as it has run, not when the whole backward pass ends.
import * as tf from '@tensorflow/tfjs';

/** What a custom-gradient function returns: its value and the gradient with respect to its inputs. */
export interface CustomGradientResult {
  /** The forward value. */
  value: tf.Tensor;
  /** Gradients with respect to the inputs (one tensor, or one per input) from `dy` and the saved tensors. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/** The engine state this module reads (tfjs-core 4.x): nesting depth of gradient computations. */
interface EngineState {
  state: { gradientDepth: number };
}

/**
 * `tf.customGrad(f)` whose gradient function runs in a `tf.tidy` and then frees the tensors `f`
 * saved. tfjs runs every gradient function of a backward pass in one scope: without this, each
 * one's temporaries (a transposed weight, a softmax) and each saved activation stay allocated
 * until the last gradient is computed, so the backward pass's peak holds all of them at once. The
 * saved tensors are kept for higher-order gradients (a backward pass inside another gradient).
 *
 * Shapes: those of `f`.
 *
 * @param f - as for `tf.customGrad`: `(...inputs, save) => { value, gradFunc }`
 * @returns the differentiable function
 * @example
 * ```ts
 * const square = customGradient((...args) => {
 *   const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
 *   save([x]);
 *   return { value: tf.square(x), gradFunc: (dy, [saved]) => tf.mul(dy, tf.mul(saved!, 2)) };
 * });
 * ```
 */
export function customGradient(
  f: (...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => CustomGradientResult,
): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const { value, gradFunc } = f(...inputs);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const grads = tf.tidy(() => gradFunc(dy as tf.Tensor, saved));
        if ((tf.engine() as unknown as EngineState).state.gradientDepth === 0) {
          const returned = new Set(Array.isArray(grads) ? grads : [grads]);
          tf.dispose(saved.filter((tensor) => !returned.has(tensor)));
        }
        return grads;
      },
    };
  });
}
