// Excess loss: how much worse the model does on a token than the reference model did.
import { checkArrayLike, checkFinite, checkLength, type NumericArray } from './check.js';
import { checkValid, combineValid, type ValidMask } from './groups.js';
import { DEFAULT_IGNORE_INDEX, type FloatArray } from './labels.js';

/** Options of {@link excessLoss}. */
export interface ExcessLossOptions {
  /** Which positions are tokens, `[N]`; the excess of a non-token is 0. */
  valid?: ValidMask;
  /** Labels `[N]`; positions equal to `ignoreIndex` are not tokens (excess 0). */
  labels?: NumericArray;
  /** Label value that marks a non-token. @default -100 */
  ignoreIndex?: number;
  /** Let NaN or infinite inputs through instead of throwing `NON_FINITE`. @default false */
  allowNonFinite?: boolean;
}

/**
 * Excess loss `excess[i] = modelLoss[i] − refLoss[i]`, signed, no clipping; `0` at positions
 * that are not tokens (per `valid` / `labels`), whose losses are not read. High excess marks a
 * token the model has yet to learn but the reference model says is learnable.
 *
 * Shapes: `modelLoss` `[N]`, `refLoss` `[N]`, result `[N]`.
 *
 * @param modelLoss - current model's per-token loss `L_θ`, `[N]`
 * @param refLoss - reference model's per-token loss `L_ref`, `[N]` (a constant: no gradient)
 * @param options - see {@link ExcessLossOptions}; `out` receives the result
 * @returns `L_θ − L_ref`, `[N]` (a new Float32Array unless `out` is given)
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `NON_FINITE`
 *
 * @example
 * ```ts
 * excessLoss([2.5, 0.5], [1.0, 1.5]); // Float32Array [1.5, -1]
 * ```
 */
export function excessLoss(
  modelLoss: NumericArray,
  refLoss: NumericArray,
  options?: ExcessLossOptions,
): Float32Array;
export function excessLoss<Out extends FloatArray>(
  modelLoss: NumericArray,
  refLoss: NumericArray,
  options: ExcessLossOptions & { out: Out },
): Out;
export function excessLoss(
  modelLoss: NumericArray,
  refLoss: NumericArray,
  options: ExcessLossOptions & { out?: FloatArray } = {},
): FloatArray {
  const fn = 'excessLoss';
  checkArrayLike(modelLoss, fn, 'modelLoss');
  checkArrayLike(refLoss, fn, 'refLoss');
  const count = modelLoss.length;
  checkLength(refLoss.length, count, fn, 'refLoss', "one reference loss per token of 'modelLoss'");
  checkValid(options.valid, count, fn);
  if (options.labels !== undefined) {
    checkArrayLike(options.labels, fn, 'labels');
    checkLength(options.labels.length, count, fn, 'labels', "one label per token of 'modelLoss'");
  }
  const valid = combineValid(
    count,
    options.valid,
    options.labels,
    options.ignoreIndex ?? DEFAULT_IGNORE_INDEX,
  );
  if (options.allowNonFinite !== true) {
    checkFinite(modelLoss, fn, 'modelLoss', valid);
    checkFinite(refLoss, fn, 'refLoss', valid);
  }
  const out = options.out ?? new Float32Array(count);
  checkLength(out.length, count, fn, 'out', "same length as 'modelLoss'");
  for (let i = 0; i < count; i++) out[i] = valid === undefined || valid[i] ? modelLoss[i]! - refLoss[i]! : 0;
  return out;
}
