/**
 * rho-slm/data in a browser build (the `browser` export condition): the tokenizers and window
 * order without Node's file system. Token and score files, `readWindows` and Hugging Face
 * tokenizer files are in the Node build only.
 *
 * @packageDocumentation
 */
export { SLMError, type SLMErrorCode } from '../core/errors.js';
export { BYTE_OFFSET, byteTokenizer, type Tokenizer } from './byteTokenizer.js';
export { windowCount, windowOrder, windowSampler } from './windows.js';
