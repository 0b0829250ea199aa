/**
 * rho-slm/pipeline: the three SLM steps as functions (Node): prepare a corpus, train (reference or
 * selective), score, evaluate. The `rho-slm` command calls these.
 *
 * @packageDocumentation
 */
export { SLMError, type SLMErrorCode } from '../core/errors.js';
export { type EvaluateOptions, type EvaluateResult, evaluateModel } from './evaluate.js';
export { modelFingerprint } from './fingerprint.js';
export { type InspectedToken, type InspectOptions, inspectWindow } from './inspect.js';
export { evaluateMathTask, MATH_TASKS, type MathTask, type MathTaskOptions } from './mathTask.js';
export { type PrepareOptions, prepareCorpus } from './prepare.js';
export { type RenderTerminalOptions, renderHtml, renderTerminal } from './renderTokens.js';
export { type ScoreOptions, type ShardSpec, scoreCorpus } from './score.js';
export { type TrainOptions, type TrainResult, trainModel } from './train.js';
