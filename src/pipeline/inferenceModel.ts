// A model the scoring pipelines were given, or load from a directory for forward passes only.
import { LlamaModel } from '../model/llama.js';

/**
 * Runs `use` with `source`: a model as it is, or a checkpoint directory loaded with
 * `{ inference: true }` (its weights adopted by TensorFlow, not copied) and disposed when `use`
 * settles.
 *
 * @param source - a model, or the directory of one
 * @param use - the work to do with it
 */
export async function withInferenceModel<T>(
  source: LlamaModel | string,
  use: (model: LlamaModel) => Promise<T>,
): Promise<T> {
  if (typeof source !== 'string') return use(source);
  const model = await LlamaModel.load(source, { inference: true });
  try {
    return await use(model);
  } finally {
    model.dispose();
  }
}
