// Token loss on the native `tensorflow` backend (@tensorflow/tfjs-node, -gpu): TensorFlow's fused
// SparseSoftmaxCrossEntropyWithLogits computes every row's loss and its gradient softmax − onehot in
// one pass over the logits, where the tensor-ops path takes five passes and keeps more copies alive.
import * as tf from '@tensorflow/tfjs';
import { customGradient } from './customGradient.js';
import { type LabelIndex, tokenRowLoss } from './labelIndex.js';

/** The tfjs kernel name under which the native op is registered for the `tensorflow` backend. */
const KERNEL = 'RhoSlmSparseSoftmaxCrossEntropy';

/** What this module uses of tfjs-node's backend object. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
  executeMultipleOutputs(
    name: string,
    attributes: { name: string; type: number; value: number }[],
    inputs: tf.TensorInfo[],
    outputs: number,
  ): tf.TensorInfo[];
}

function registerNativeKernel(): void {
  if (tf.getKernel(KERNEL, 'tensorflow') !== undefined) return;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const native = backend as unknown as NativeBackend;
      const type = native.binding.TF_ATTR_TYPE;
      return native.executeMultipleOutputs(
        'SparseSoftmaxCrossEntropyWithLogits',
        [
          { name: 'T', type, value: native.binding.TF_FLOAT },
          { name: 'Tlabels', type, value: native.binding.TF_INT32 },
        ],
        [inputs.logits!, inputs.labels!],
        2,
      );
    },
  });
}

/** Whether token losses use the native fused kernel (the active backend is `tensorflow`). */
export function nativeKernelsActive(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/**
 * {@link tokenLossRows} through TensorFlow's fused kernel: same values (NaN for labels out of range,
 * 0 for non-tokens) and the same gradient `dy · (softmax − onehot)`, with the `[N, V]` gradient
 * computed in the forward pass and saved (beyond the logits, peak 2× their size: the saved
 * gradient and the scaled one it returns).
 * Shapes: `logits` `[N, V]` float32, result `[N]`.
 */
export function nativeTokenLossRows(logits: tf.Tensor2D, index: LabelIndex): tf.Tensor1D {
  registerNativeKernel();
  const lossWithGrad = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits2d, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [rowLoss, rowGrad] = tf
      .engine()
      .runKernel(KERNEL, { logits: logits2d, labels: index.label }, {}) as [tf.Tensor1D, tf.Tensor2D]; // [N], [N, V]
    const loss = tokenRowLoss(rowLoss, index);
    save([rowGrad, index.inRange]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedGrad, savedInRange] = saved as [tf.Tensor2D, tf.Tensor1D];
        const rowWeight = tf.mul(dy as tf.Tensor1D, savedInRange); // [N]
        return tf.mul(savedGrad, tf.expandDims(rowWeight, 1)); // [N, V]
      },
    };
  });
  return lossWithGrad(logits) as tf.Tensor1D;
}
