/**
 * rho-slm/data: tokenizers, token files, training windows and reference-score files (Node).
 *
 * @packageDocumentation
 */
export { SLMError, type SLMErrorCode } from '../core/errors.js';
export { BYTE_OFFSET, byteTokenizer, type Tokenizer } from './byteTokenizer.js';
export { loadHuggingFaceTokenizer } from './huggingFaceTokenizer.js';
export {
  mergeScoreParts,
  ScoreFile,
  type ScoreFileInfo,
  type ScoreFilePlan,
  ScoreFileWriter,
} from './scoreFile.js';
export {
  TOKEN_HEADER_SIZE,
  TokenFile,
  type TokenFileInfo,
  type TokenFileOptions,
  TokenFileWriter,
} from './tokenFile.js';
export { readWindows, type WindowBatch, windowCount, windowOrder, windowSampler } from './windows.js';
