/**
 * rho-slm/model in a browser build (the `browser` export condition): the Llama model, its
 * presets, optimizer and schedule without Node's file system. `LlamaModel.load`/`save` throw
 * `NODE_ONLY` there (use `fromWeights`/`exportWeights`); `exportGguf` is in the Node build only.
 *
 * @packageDocumentation
 */
export { SLMError, type SLMErrorCode } from '../core/errors.js';
export { AdamW, type AdamWOptions, type NamedTensor, type OptimizerStateEntry } from './adamw.js';
export type { LayerCache } from './attention.js';
export {
  LLAMA_PRESETS,
  type LlamaConfig,
  type LlamaPresetName,
  resolveLlamaConfig,
  validateLlamaConfig,
} from './config.js';
export type { GenerateOptions } from './generate.js';
export { KVCache } from './kvCache.js';
export { type CheckpointLoadOptions, type CreateOptions, LlamaModel, type LoadOptions } from './llama.js';
export type { NormalSampler } from './normalStreams.js';
export { type ParameterSpec, parameterCount, parameterTable } from './parameterTable.js';
export { type WarmupCosineOptions, warmupCosineSchedule } from './schedule.js';
export type { NamedWeight, SaveOptions } from './weights.js';
