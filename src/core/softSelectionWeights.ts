// Soft selection: per-token weights instead of a hard top-k mask (Rho-1's "reweighting" variant).
import { checkArrayLike, checkNotNaN, checkTemperature } from './check.js';
import { checkValid, groupLength, type SelectionScope, type ValidMask } from './groups.js';

/** Options of {@link softSelectionWeights}. */
export interface SoftSelectionWeightsOptions {
  /** Which positions count, `[B·T]`; all when omitted. */
  valid?: ValidMask;
  /** Normalisation group. @default 'batch' */
  scope?: SelectionScope;
  /** Positions per sequence `T`; required when `scope` is `'sequence'`. */
  seqLen?: number;
  /** Softmax temperature `τ` > 0; large τ tends to uniform weights (plain CLM). @default 1 */
  temperature?: number;
}

/**
 * Soft selection weights: within each group `g` of `n_g` valid tokens,
 * `w_i = n_g · exp(s_i/τ) / Σ_{j valid in g} exp(s_j/τ)`, and `0` for invalid tokens, so the
 * weights of a group average 1. The weighted loss `Σ w_i·L_i / Σ w_i` then leans towards tokens
 * with high score instead of dropping the rest.
 *
 * Shapes: `scores` `[B·T]`, `valid` `[B·T]`, result `[B·T]`.
 *
 * @param scores - selection scores, e.g. excess loss; NaN not allowed
 * @param options - see {@link SoftSelectionWeightsOptions}
 * @returns weights, `[B·T]`
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `BAD_OPTION`, `NON_FINITE`
 * @example
 * ```ts
 * softSelectionWeights([0, Math.log(3)]); // Float32Array [0.5, 1.5]
 * ```
 */
export function softSelectionWeights(
  scores: ArrayLike<number>,
  options: SoftSelectionWeightsOptions = {},
): Float32Array {
  const fn = 'softSelectionWeights';
  checkArrayLike(scores, fn, 'scores');
  checkValid(options.valid, scores.length, fn);
  const groupSize = groupLength(scores.length, options.scope ?? 'batch', options.seqLen, fn);
  const temperature = options.temperature ?? 1;
  checkTemperature(temperature, fn);
  checkNotNaN(scores, fn, 'scores');
  return softWeightsByGroup(scores, options.valid, groupSize, temperature);
}

/** Unchecked engine of {@link softSelectionWeights} over groups of `groupSize` positions. */
export function softWeightsByGroup(
  scores: ArrayLike<number>,
  valid: ValidMask | undefined,
  groupSize: number,
  temperature: number,
): Float32Array {
  const weights = new Float32Array(scores.length);
  for (let start = 0; start < scores.length; start += groupSize) {
    const end = start + groupSize;
    let max = Number.NEGATIVE_INFINITY;
    let validCount = 0;
    for (let i = start; i < end; i++) {
      if (valid !== undefined && !valid[i]) continue;
      validCount++;
      if (scores[i]! / temperature > max) max = scores[i]! / temperature;
    }
    if (validCount === 0) continue;
    let sum = 0;
    for (let i = start; i < end; i++)
      if (valid === undefined || valid[i]) sum += Math.exp(scores[i]! / temperature - max);
    const scale = validCount / sum;
    for (let i = start; i < end; i++) {
      if (valid === undefined || valid[i]) weights[i] = Math.exp(scores[i]! / temperature - max) * scale;
    }
  }
  return weights;
}
