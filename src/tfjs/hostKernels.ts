// Token loss on the host for backends whose tensors live in CPU memory (cpu, wasm): the typed-array
// core's one-pass kernels beat chains of tensor ops there in time and in peak memory.
import * as tf from '@tensorflow/tfjs';
import { tokenLoss as coreTokenLoss, tokenLossGrad as coreTokenLossGrad } from '../core/tokenLoss.js';
import { hostView, tensorFromHost } from '../heap/wasmHeap.js';
import { customGradient } from './customGradient.js';
import type { LabelIndex } from './labelIndex.js';

let hostKernelsEnabled = true;

/**
 * Chooses how token losses are computed on the `cpu` and `wasm` backends: by the typed-array core
 * on the host (`true`, the default: one fused pass per row, about 4× faster than tensor ops on
 * wasm, and beyond the logits only the gradient itself in memory, against two logits-sized tensors
 * for tensor ops), or by tensor ops (`false`: the path GPU backends always take). Both give the same results within float32 rounding; the tests run both.
 *
 * @param enabled - whether cpu and wasm use the host kernels
 * @example
 * ```ts
 * useHostKernels(false); // compare against the tensor-ops path
 * ```
 */
export function useHostKernels(enabled: boolean): void {
  hostKernelsEnabled = enabled;
}

/** Whether token losses run on the host for the active backend. */
export function hostKernelsActive(): boolean {
  const backend = tf.getBackend();
  return hostKernelsEnabled && (backend === 'cpu' || backend === 'wasm');
}

/** Marks a row as no token for the core kernels (labels are remapped, so any negative value works). */
const HOST_IGNORE = -1;

/**
 * {@link tokenLossRows} on the host: same values (NaN for labels out of range, 0 for non-tokens),
 * same gradient `dy · (softmax − onehot)`. Reads the labels and logits synchronously.
 */
export function hostTokenLossRows(logits: tf.Tensor2D, index: LabelIndex): tf.Tensor1D {
  const [rows, vocab] = logits.shape;
  const label = index.label.dataSync();
  const inRange = index.inRange.dataSync();
  const valid = index.valid.dataSync();
  const labels = Int32Array.from(label, (id, row) => (inRange[row] ? id : HOST_IGNORE));
  const options = { ignoreIndex: HOST_IGNORE, vocabSize: vocab, allowNonFinite: true };
  const lossWithGrad = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([x]);
    const logSumExp = new Float64Array(rows); // lets the backward take one pass per row
    const value = tensorFromHost([rows], (out) => {
      coreTokenLoss(hostView(x), labels, { ...options, out, logSumExpOut: logSumExp });
      for (let row = 0; row < rows; row++) if (valid[row] && !inRange[row]) out[row] = Number.NaN;
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const weights = (dy as tf.Tensor).dataSync();
        return tensorFromHost([rows, vocab], (out) => {
          coreTokenLossGrad(hostView(saved[0]!), labels, weights, { ...options, out, logSumExp });
        });
      },
    };
  });
  return lossWithGrad(logits) as tf.Tensor1D;
}
