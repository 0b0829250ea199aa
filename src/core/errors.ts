/**
 * Stable machine-readable codes carried by {@link SLMError}.
 *
 * - `SHAPE_MISMATCH`: array lengths disagree (e.g. `logits.length` is not `N·V`).
 * - `LABEL_OUT_OF_RANGE`: a label is neither `ignoreIndex` nor an integer in `[0, V)`.
 * - `BAD_RATIO`: the selection ratio is not a number in `(0, 1]`.
 * - `NON_FINITE`: a NaN or infinity where a finite number is required.
 * - `BAD_OPTION`: an option has a value outside its documented set or range.
 * - `BAD_TYPE`: an argument has the wrong type (e.g. not an array).
 * - `BACKEND_UNAVAILABLE`: a requested tfjs backend could not be loaded or initialised.
 * - `BAD_CONFIG`: a model configuration is incomplete or inconsistent.
 * - `BAD_CHECKPOINT`: a checkpoint file is malformed, truncated, or does not match the model.
 * - `TOOL_UNAVAILABLE`: an external program the task needs (`python3` for tool-integrated
 *   evaluation) could not be started.
 * - `BAD_FILE`: a file is not of the kind expected (e.g. not a token file), or its size or a
 *   count in it is beyond what it can hold.
 * - `OUTPUT_EXISTS`: a command would overwrite earlier output (pass `--force`, or `--resume`).
 * - `OUTPUT_LOCKED`: another running process holds the lock on an output.
 * - `INTERRUPTED`: stopped by the user (Ctrl-C) before anything was written.
 * - `NODE_ONLY`: a function that needs Node's file system was called in a browser build.
 * - `MISSING_PACKAGE`: an optional package that a command needs is not installed.
 * - `SANDBOX_UNAVAILABLE`: model-written programs cannot be run in a sandbox here (Linux with
 *   bubblewrap is needed) and the caller did not opt out with `sandbox: 'none'`.
 */
export type SLMErrorCode =
  | 'SHAPE_MISMATCH'
  | 'LABEL_OUT_OF_RANGE'
  | 'BAD_RATIO'
  | 'NON_FINITE'
  | 'BAD_OPTION'
  | 'BAD_TYPE'
  | 'BACKEND_UNAVAILABLE'
  | 'BAD_CONFIG'
  | 'BAD_CHECKPOINT'
  | 'TOOL_UNAVAILABLE'
  | 'BAD_FILE'
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_LOCKED'
  | 'INTERRUPTED'
  | 'NODE_ONLY'
  | 'MISSING_PACKAGE'
  | 'SANDBOX_UNAVAILABLE';

/**
 * The one error class of rho-slm. `code` is stable across releases; `message` names the
 * function, the argument, the value received and what was expected. `instanceof SLMError` holds
 * for errors from every copy of the class (ESM, CommonJS and browser builds each carry one).
 *
 * @example
 * ```ts
 * try { topKMask([0.3, 2.0], { ratio: 2 }); }
 * catch (error) { if (error instanceof SLMError && error.code === 'BAD_RATIO') console.error(error.message); }
 * ```
 */
export class SLMError extends Error {
  /** Stable machine-readable error code. */
  readonly code: SLMErrorCode;

  /**
   * @param code - stable machine-readable code
   * @param message - human-readable text naming function, argument, got and expected
   */
  constructor(code: SLMErrorCode, message: string) {
    super(message);
    this.name = 'SLMError';
    this.code = code;
  }

  /** True for any `SLMError`, whichever build of rho-slm created it (matched by name and code). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      value instanceof Error &&
      value.name === 'SLMError' &&
      typeof (value as { code?: unknown }).code === 'string'
    );
  }
}
