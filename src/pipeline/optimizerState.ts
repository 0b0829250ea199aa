// The optimizer's state in a training checkpoint (optimizer.safetensors): written one moment at a
// time, and read back straight into the backend's memory.
import * as tf from '@tensorflow/tfjs';
import type { AdamW, NamedTensor } from '../model/adamw.js';
import { readSafetensorsInThreads } from '../model/checkpoint.js';
import { writeSafetensors } from '../model/safetensors.js';
import { copiedPlacement, transientTensor } from '../tfjs/nativeBackend.js';

/**
 * Writes `optimizer`'s state to `path` atomically, one moment read out of the backend at a time: a
 * 1.1 B model's moments (8 GiB) are never copied all at once.
 */
export async function writeOptimizerState(path: string, optimizer: AdamW): Promise<void> {
  const state = new Map(optimizer.stateEntries().map((entry) => [entry.name, entry]));
  await writeSafetensors(
    path,
    [...state.values()].map(({ name, shape }) => ({ name, shape: shape.length === 0 ? [1] : shape })),
    (name) => state.get(name)!.read(),
  );
}

/**
 * Restores into `optimizer` the state {@link writeOptimizerState} wrote to `path`, read in worker
 * threads. Each moment is handed to the backend as it arrives (on `tensorflow`, copied into
 * TensorFlow's memory now), so no moment stays in a JavaScript array: tfjs-node would otherwise keep
 * every one until the first update reads it, and then hold it twice until garbage collection, which
 * took a resumed TinyLlama-1.1B past 24 GB.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` for a malformed or corrupt file
 */
export async function restoreOptimizerState(path: string, optimizer: AdamW): Promise<void> {
  const state: NamedTensor[] = [];
  try {
    for await (const [name, { shape, data }] of readSafetensorsInThreads(path, {
      placement: copiedPlacement,
    }))
      state.push({
        name,
        tensor: name === 'iter' ? tf.scalar(data[0]!, 'int32') : transientTensor(data, shape),
      });
    await optimizer.setWeights(state);
  } finally {
    tf.dispose(state.map((entry) => entry.tensor));
  }
}
