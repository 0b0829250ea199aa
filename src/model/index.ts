/**
 * rho-slm/model: a Llama-architecture (TinyLlama-style) language model on tfjs, its presets and
 * Hugging Face parameter layout.
 *
 * @packageDocumentation
 */

export { SLMError, type SLMErrorCode } from '../core/errors.js';
export { AdamW, type AdamWOptions, type NamedTensor } from './adamw.js';
export type { LayerCache } from './attention.js';
export {
  LLAMA_PRESETS,
  type LlamaConfig,
  type LlamaPresetName,
  resolveLlamaConfig,
  validateLlamaConfig,
} from './config.js';
export type { GenerateOptions } from './generate.js';
export { exportGguf, ggufTensorName, permuteForRope } from './gguf.js';
export { KVCache } from './kvCache.js';
export { type CreateOptions, LlamaModel } from './llama.js';
export { type ParameterSpec, parameterCount, parameterTable } from './parameterTable.js';
export { type WarmupCosineOptions, warmupCosineSchedule } from './schedule.js';
export type { NamedWeight, SaveOptions } from './weights.js';
