export type { NumericArray } from './check.js';
export { SLMError, type SLMErrorCode } from './errors.js';
export { type ExcessLossOptions, excessLoss } from './excessLoss.js';
export type { SelectionScope, ValidMask } from './groups.js';
export { DEFAULT_IGNORE_INDEX, type FloatArray } from './labels.js';
export { createRandom, type UniformRandom } from './random.js';
export {
  SELECTION_STRATEGIES,
  type SelectionScoresOptions,
  type SelectionStrategy,
  selectionScores,
} from './selectionScores.js';
export { DEFAULT_RATIO, type SelectionOptions, type SelectionOutput } from './selectionSettings.js';
export {
  type SelectiveLossOptions,
  type SelectiveLossResult,
  selectiveLoss,
} from './selectiveLoss.js';
export { type SoftSelectionWeightsOptions, softSelectionWeights } from './softSelectionWeights.js';
export {
  type TokenLossForwardOptions,
  type TokenLossGradOptions,
  type TokenLossOptions,
  tokenLoss,
  tokenLossGrad,
} from './tokenLoss.js';
export { selectionCount, type TopKMaskOptions, topKMask } from './topKMask.js';
