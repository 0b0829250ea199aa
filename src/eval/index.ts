/**
 * rho-slm/eval: math evaluation that grades like the Python math-evaluation-harness behind Rho-1's
 * tables (GSM8K and MATH): answer extraction, normalisation, comparison with a small symbolic
 * layer, few-shot chain-of-thought and tool-integrated (ToRA / PAL) evaluation, re-grading of
 * saved outputs.
 *
 * @packageDocumentation
 */
export { SLMError, type SLMErrorCode } from '../core/errors.js';
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
export { type AnswerStyle, extractAnswer, lastBoxed } from './extract.js';
export { type AnswerVerdict, gradeCompletion, isEquivalent } from './gradeCompletion.js';
export type { GradingMode, GradingOptions } from './grading.js';
export { type MathEqualOptions, mathEqual } from './mathEqual.js';
export { normalizeAnswer } from './normalize.js';
export { numericEqual, parseDigits } from './numbers.js';
export {
  checkPythonSandbox,
  type PythonRun,
  type PythonRunOptions,
  runPython,
  type SandboxMode,
} from './pythonExecutor.js';
export {
  type RegradedItem,
  type RegradeOptions,
  type RegradeResult,
  regradeOutputs,
} from './regrade.js';
export { symbolicEqual } from './symbolic.js';
export {
  extractProgram,
  type Generate,
  type ProgramRun,
  type PromptFormat,
  type SolveWithToolsOptions,
  solveWithTools,
  TOOL_STOP_SEQUENCES,
  type ToolSolution,
  toolPrompt,
} from './toolIntegrated.js';
export { wordToNumber } from './wordToNumber.js';
