// The score each selection strategy ranks tokens by; every strategy is "top-k of a score".
import { checkOneOf, checkTemperature, type NumericArray, throwMissingOption } from './check.js';
import { createRandom } from './random.js';

/**
 * How tokens are ranked for selection:
 * - `'excess'`: `L_θ − L_ref` (Rho-1, the default).
 * - `'absolute-excess'`: `|L_θ − L_ref|`.
 * - `'model-loss'`: `L_θ` alone (high current loss; no reference model).
 * - `'random'`: a uniformly random `k`-subset (seeded): the control every ablation needs.
 * - `'sample'`: `k` tokens drawn without replacement with probability ∝
 *   `softmax((L_θ − L_ref) / temperature)` (seeded), via the Gumbel-top-k trick: the top `k` of
 *   `(L_θ − L_ref)/temperature + G_i`, `G_i ~ Gumbel(0, 1)`, is exactly such a draw.
 */
export type SelectionStrategy = 'excess' | 'absolute-excess' | 'model-loss' | 'random' | 'sample';

/** The strategies, in documentation order. */
export const SELECTION_STRATEGIES: readonly SelectionStrategy[] = [
  'excess',
  'absolute-excess',
  'model-loss',
  'random',
  'sample',
];

/** Whether `strategy` reads reference losses. */
export function strategyNeedsReference(strategy: SelectionStrategy): boolean {
  return strategy !== 'model-loss' && strategy !== 'random';
}

/** Inputs of {@link selectionScores}. */
export interface SelectionScoresOptions {
  /** Current model's per-token loss `L_θ`, `[N]`. */
  modelLoss: NumericArray;
  /** Reference per-token loss `L_ref`, `[N]`; required unless the strategy ignores it. */
  refLoss?: NumericArray;
  /** Seed of `'random'` and `'sample'`. @default 0 */
  seed?: number;
  /** Temperature of `'sample'`, > 0. @default 1 */
  temperature?: number;
}

/**
 * The score {@link topKMask} ranks by under `strategy` (see {@link SelectionStrategy} for each
 * formula). Inputs are trusted: validate them first (as {@link selectiveLoss} does).
 *
 * Shapes: `modelLoss` `[N]`, `refLoss` `[N]`, result `[N]`.
 *
 * @param strategy - see {@link SelectionStrategy}
 * @param options - see {@link SelectionScoresOptions}
 * @returns scores in doubles, `[N]`
 * @throws {@link SLMError} `BAD_OPTION` for an unknown strategy, a missing `refLoss` or a bad temperature
 * @example
 * ```ts
 * selectionScores('absolute-excess', { modelLoss: [1, 2], refLoss: [3, 1] }); // [2, 1]
 * ```
 */
export function selectionScores(strategy: SelectionStrategy, options: SelectionScoresOptions): Float64Array {
  const fn = 'selectionScores';
  checkOneOf(strategy, SELECTION_STRATEGIES, fn, 'strategy');
  const { modelLoss, refLoss } = options;
  const scores = new Float64Array(modelLoss.length);
  if (strategyNeedsReference(strategy) && refLoss === undefined) {
    throwMissingOption(fn, 'refLoss', `by strategy '${strategy}'`);
  }
  const random = createRandom(options.seed ?? 0);
  switch (strategy) {
    case 'excess':
      for (let i = 0; i < scores.length; i++) scores[i] = modelLoss[i]! - refLoss![i]!;
      break;
    case 'absolute-excess':
      for (let i = 0; i < scores.length; i++) scores[i] = Math.abs(modelLoss[i]! - refLoss![i]!);
      break;
    case 'model-loss':
      for (let i = 0; i < scores.length; i++) scores[i] = modelLoss[i]!;
      break;
    case 'random':
      for (let i = 0; i < scores.length; i++) scores[i] = random();
      break;
    case 'sample': {
      const temperature = options.temperature ?? 1;
      checkTemperature(temperature, fn);
      for (let i = 0; i < scores.length; i++) {
        const gumbel = -Math.log(-Math.log(random()));
        scores[i] = (modelLoss[i]! - refLoss![i]!) / temperature + gumbel;
      }
      break;
    }
  }
  return scores;
}
