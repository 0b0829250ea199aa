// Direct access to tensor memory on backends that keep it on the host: the wasm heap (in place)
// and the cpu backend's arrays. Lets host code read and write tensors without copies.
import * as tf from '@tensorflow/tfjs';

/** The wasm backend's own heap access (tfjs-backend-wasm 4.x), used when present. */
export interface WasmHeapAccess {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/** The active wasm backend's heap access, or undefined on other backends. */
export function wasmHeap(): WasmHeapAccess | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as Partial<WasmHeapAccess>;
  return typeof backend.makeOutput === 'function' && typeof backend.typedArrayFromHeap === 'function'
    ? (backend as WasmHeapAccess)
    : undefined;
}

/** The float32 data of `tensor` without a copy where the backend allows it (wasm heap, cpu array). */
export function hostView(tensor: tf.Tensor): Float32Array {
  return wasmHeap()?.typedArrayFromHeap(tensor) ?? (tensor.dataSync() as Float32Array);
}

/**
 * Runs `fill` on the host memory of a new float32 tensor of `shape` (written in place in the wasm
 * heap; adopted without a copy by the cpu backend). `fill` must not allocate tensors: a growing
 * wasm heap would detach the views it was given.
 */
export function tensorFromHost(shape: number[], fill: (out: Float32Array) => void): tf.Tensor {
  const heap = wasmHeap();
  if (heap === undefined) {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(out);
    return tf.tensor(out, shape, 'float32');
  }
  const info = heap.makeOutput(shape, 'float32');
  fill(heap.typedArrayFromHeap(info));
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * The slices `x[0], …, x[n−1]` of `x` `[n, ...rest]` as separate tensors `[...rest]`, copied with
 * memcpy on wasm (its Slice kernel moves about 0.1 GB/s), with `tf.unstack` elsewhere. Not
 * differentiable: use inside custom gradients.
 */
export function unstackFast(x: tf.Tensor): tf.Tensor[] {
  const heap = wasmHeap();
  if (heap === undefined || x.dtype !== 'float32') return tf.unstack(x);
  const [count, ...rest] = x.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const infos = Array.from({ length: count! }, () => heap.makeOutput(rest, 'float32'));
  const source = heap.typedArrayFromHeap(x); // after every allocation: a growing heap detaches views
  for (const [i, info] of infos.entries())
    heap.typedArrayFromHeap(info).set(source.subarray(i * size, (i + 1) * size));
  return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
}
