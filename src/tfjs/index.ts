/**
 * rho-slm/tfjs: Selective Language Modeling over `tf.Tensor` for every tfjs backend, with
 * gradients, device-side selection and a training step.
 *
 * @packageDocumentation
 */

export { SLMError, type SLMErrorCode } from '../core/errors.js';
export {
  BACKEND_ORDER,
  type BackendChoice,
  type BackendName,
  type SkippedBackend,
  silenceNodeBanner,
  type UseBackendOptions,
  useBackend,
} from './backend.js';
export { excessLoss } from './excessLoss.js';
export { useHostKernels } from './hostKernels.js';
export { readSelectionStats, readSelectionStatsSync, type SelectionStats } from './selectionStats.js';
export {
  selectiveLoss,
  type TensorSelectiveLossOptions,
  type TensorSelectiveLossResult,
} from './selectiveLoss.js';
export type { TensorLike } from './tensorChecks.js';
export { type TensorTokenLossOptions, tokenLoss } from './tokenLoss.js';
export { type TensorTopKMaskOptions, topKMask } from './topKMask.js';
export {
  createTrainStep,
  type TrainableModel,
  type TrainBatch,
  type TrainStep,
  type TrainStepOptions,
  type TrainStepStats,
} from './trainStep.js';
export { registerWasmKernels } from './wasmKernels.js';
