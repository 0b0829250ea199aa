// Per-position losses of a model on windows of a token file: what scoring and evaluation share.
import * as tf from '@tensorflow/tfjs';
import { tokenLoss } from '../core/tokenLoss.js';
import type { WindowBatch } from '../data/windows.js';
import type { LlamaModel } from '../model/llama.js';

/** Next-token losses `[B·T]` (nats) of `model` on a batch of windows. */
export async function windowLosses(
  model: LlamaModel,
  batch: WindowBatch,
  seqLen: number,
): Promise<Float32Array> {
  const ids = tf.tensor2d(batch.inputs, [batch.windows.length, seqLen], 'int32');
  const logits = model.forward(ids);
  const values = (await logits.data()) as Float32Array;
  tf.dispose([ids, logits]);
  return tokenLoss(values, batch.targets, { vocabSize: model.config.vocab_size });
}
