/**
 * rho-slm/eval: few-shot chain-of-thought math evaluation (GSM8K and MATH layouts): answer
 * extraction, normalisation and grading, prompts, and the evaluation loop.
 *
 * @packageDocumentation
 */
export { SLMError, type SLMErrorCode } from '../core/errors.js';
export { type AnswerStyle, extractAnswer, isEquivalent, lastBoxed, normalizeAnswer } from './answers.js';
export { loadMathDataset, type MathExample, syntheticArithmetic } from './datasets.js';
export {
  buildPrompt,
  cutAtStop,
  type EvaluateMathOptions,
  evaluate,
  type GradedExample,
  type MathEvaluation,
  STOP_SEQUENCES,
} from './evaluate.js';
