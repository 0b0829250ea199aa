// Peak tensor memory while some work runs, each buffer counted once. tf.memory() and tf.profile's
// peakBytes add a tensor's bytes for every tensor object, so a reshape (which shares its input's
// buffer) is counted twice; this meter counts the engine's data buffers (data ids) instead.
import * as tf from '@tensorflow/tfjs';

/** The engine internals the meter hooks (tfjs-core 4.x): its per-buffer bookkeeping. */
interface EngineBookkeeping {
  state: { tensorInfo: WeakMap<object, { bytes: number; backend: unknown }> };
  trackTensor(tensor: tf.Tensor, backend: unknown): void;
  removeDataId(dataId: object, backend: unknown): void;
}

/** What {@link measurePeakBytes} saw. */
export interface PeakMemory<T> {
  /** What `work` returned. */
  result: T;
  /**
   * Largest total, during `work`, of the bytes of buffers created during `work` and still alive,
   * minus the bytes of buffers that existed before and were freed during it (never below 0).
   */
  peakBytes: number;
  /** Bytes of buffers created during `work` that are still alive when it ends. */
  endBytes: number;
}

/**
 * Runs `work` and measures the peak of tensor memory it adds: the bytes of distinct data buffers
 * alive, sampled at every buffer the engine starts tracking. What is counted: every tensor buffer
 * the tfjs engine knows (kernel outputs, variables, `tf.tensor` data), each once however many
 * tensors share it. Not counted: temporaries a kernel allocates and frees inside itself, and what
 * a native library holds outside tensors. On wasm a data id is a distinct heap allocation (reshape
 * and the shared `Identity` keep the data id), so this is the heap the tensors take; on
 * `tensorflow` a reshape gets a new data id over the same TensorFlow buffer, so it is an upper bound.
 *
 * @example
 * ```ts
 * const { peakBytes } = await measurePeakBytes(() => tf.grad((x) => tokenLoss(x, labels).sum())(logits));
 * ```
 */
export async function measurePeakBytes<T>(work: () => T | Promise<T>): Promise<PeakMemory<T>> {
  const engine = tf.engine() as unknown as EngineBookkeeping;
  const { trackTensor, removeDataId } = engine;
  let live = 0;
  let peak = 0;
  engine.trackTensor = function (tensor, backend) {
    const isNew = !engine.state.tensorInfo.has(tensor.dataId);
    trackTensor.call(this, tensor, backend);
    if (isNew) {
      live += engine.state.tensorInfo.get(tensor.dataId)?.bytes ?? 0;
      peak = Math.max(peak, live);
    }
  };
  engine.removeDataId = function (dataId, backend) {
    const info = engine.state.tensorInfo.get(dataId);
    if (info !== undefined && info.backend === backend) live -= info.bytes;
    removeDataId.call(this, dataId, backend);
  };
  try {
    const result = await work();
    return { result, peakBytes: peak, endBytes: live };
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
}
