// The score each selection strategy ranks by, as tensors (formulas: core SelectionStrategy).
import * as tf from '@tensorflow/tfjs';
import type { SelectionStrategy } from '../core/selectionScores.js';

/** Inputs of {@link scoresOnDevice}; all tensors `[N]`. */
export interface DeviceScoreInputs {
  /** Current per-token loss `L_θ`. */
  modelLoss: tf.Tensor1D;
  /** Reference per-token loss `L_ref` (zeros when the strategy ignores it). */
  refLoss: tf.Tensor1D;
  /** Seed of `'random'` and `'sample'`. */
  seed: number;
  /** Temperature of `'sample'`. */
  temperature: number;
}

/** Scores `[N]` under `strategy`; the caller has validated every option. */
export function scoresOnDevice(strategy: SelectionStrategy, inputs: DeviceScoreInputs): tf.Tensor1D {
  const { modelLoss, refLoss, seed, temperature } = inputs;
  return tf.tidy(() => {
    switch (strategy) {
      case 'excess':
        return tf.sub(modelLoss, refLoss);
      case 'absolute-excess':
        return tf.abs(tf.sub(modelLoss, refLoss));
      case 'model-loss':
        return tf.clone(modelLoss);
      case 'random':
        return tf.randomUniform(modelLoss.shape, 0, 1, 'float32', seed);
      case 'sample': {
        const uniform = tf.randomUniform(modelLoss.shape, 1e-12, 1, 'float32', seed);
        const gumbel = tf.neg(tf.log(tf.neg(tf.log(uniform))));
        return tf.add(tf.div(tf.sub(modelLoss, refLoss), temperature), gumbel);
      }
    }
  }) as tf.Tensor1D;
}
