// A model the scoring pipelines were given, or load from a directory for forward passes only.
import { type CheckpointLoadOptions, LlamaModel } from '../model/llama.js';
import { fingerprintOf, modelFingerprint } from './fingerprint.js';

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
  return typeof source === 'string' ? withLoadedModel(source, {}, use) : use(source);
}

/**
 * {@link withInferenceModel}, with the model's {@link modelFingerprint} too: for a directory, from
 * the CRC-32 its reading threads take as they decode (not by reading every weight back out of the
 * backend, which takes 11 s for TinyLlama-1.1B).
 *
 * @param source - a model, or the directory of one
 * @param use - the work to do with it and its fingerprint
 */
export async function withFingerprintedModel<T>(
  source: LlamaModel | string,
  use: (model: LlamaModel, fingerprint: string) => Promise<T>,
): Promise<T> {
  if (typeof source !== 'string') return use(source, await modelFingerprint(source));
  let weightsCrc: number | undefined;
  const onWeightsCrc = (crc: number) => {
    weightsCrc = crc;
  };
  return withLoadedModel(source, { onWeightsCrc }, (model) =>
    use(model, fingerprintOf(model.parameterCount(), weightsCrc!)),
  );
}

/** Runs `use` with the model in `directory`, loaded for inference with `options`, disposed when `use` settles. */
async function withLoadedModel<T>(
  directory: string,
  options: CheckpointLoadOptions,
  use: (model: LlamaModel) => Promise<T>,
): Promise<T> {
  const model = await LlamaModel.load(directory, { ...options, inference: true });
  try {
    return await use(model);
  } finally {
    model.dispose();
  }
}
