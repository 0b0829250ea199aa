/**
 * rho-slm/model: a Llama-architecture (TinyLlama-style) language model on tfjs, its presets and
 * Hugging Face parameter layout.
 *
 * @packageDocumentation
 */

// Everything the browser build has, plus GGUF export (Node only).
export * from './browser.js';
export { exportGguf, ggufTensorName, permuteForRope } from './gguf.js';
