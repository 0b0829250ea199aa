// Selection settings resolved once: defaults filled in and every field checked, for the core's
// selectiveLoss and rho-slm/tfjs alike.
import { checkOneOf, checkRatio, checkTemperature } from './check.js';
import type { SelectionScope } from './groups.js';
import { DEFAULT_IGNORE_INDEX } from './labels.js';
import { SELECTION_STRATEGIES, type SelectionStrategy } from './selectionScores.js';

/** The selection ratio when none is given: the top 60% of tokens, the paper's choice for its 1B model. */
export const DEFAULT_RATIO = 0.6;

/** `'mask'`: hard top-k selection (Rho-1). `'weights'`: soft weights, see `softSelectionWeights`. */
export type SelectionOutput = 'mask' | 'weights';

/** How tokens are selected: shared by the core `selectiveLoss` and `rho-slm/tfjs`. */
export interface SelectionOptions {
  /** Fraction of valid tokens to train on, in `(0, 1]`; `1` is ordinary causal LM loss. @default 0.6 ({@link DEFAULT_RATIO}) */
  ratio?: number;
  /** Label value that marks a non-token. @default -100 */
  ignoreIndex?: number;
  /** Selection group: the whole batch (the paper) or each sequence. @default 'batch' */
  scope?: SelectionScope;
  /** Positions per sequence `T`; required for `'sequence'` (tensor inputs default to their last axis). */
  seqLen?: number;
  /** How tokens are ranked (formulas: {@link SelectionStrategy}). @default 'excess' */
  strategy?: SelectionStrategy;
  /** Seed of the `'random'` and `'sample'` strategies. @default 0 */
  seed?: number;
  /** Temperature of `'sample'` and of `output: 'weights'`. @default 1 */
  temperature?: number;
  /** Hard top-k mask or soft weights. @default 'mask' */
  output?: SelectionOutput;
}

/** {@link SelectionOptions} with every default filled in (`seqLen` stays optional). */
export type ResolvedSelection = Required<Omit<SelectionOptions, 'seqLen'>> & { seqLen: number | undefined };

/** Strategies that rank deterministically, the ones `output: 'weights'` can reweight by. */
const DETERMINISTIC_STRATEGIES: readonly SelectionStrategy[] = ['excess', 'absolute-excess', 'model-loss'];

/**
 * Fills in the defaults of `settings` and checks every field, naming `fn` in errors.
 *
 * @throws {@link SLMError} `BAD_RATIO`; `BAD_OPTION` for an unknown scope, strategy or output, a bad
 *   temperature, or `output: 'weights'` with a random strategy
 */
export function resolveSelection(settings: SelectionOptions, fn: string): ResolvedSelection {
  const resolved: ResolvedSelection = {
    ratio: settings.ratio ?? DEFAULT_RATIO,
    scope: settings.scope ?? 'batch',
    seqLen: settings.seqLen,
    strategy: settings.strategy ?? 'excess',
    seed: settings.seed ?? 0,
    temperature: settings.temperature ?? 1,
    output: settings.output ?? 'mask',
    ignoreIndex: settings.ignoreIndex ?? DEFAULT_IGNORE_INDEX,
  };
  checkOneOf(resolved.strategy, SELECTION_STRATEGIES, fn, 'strategy');
  checkRatio(resolved.ratio, fn);
  checkOneOf(resolved.scope, ['batch', 'sequence'], fn, 'scope');
  checkOneOf(resolved.output, ['mask', 'weights'], fn, 'output');
  checkTemperature(resolved.temperature, fn);
  if (resolved.output === 'weights')
    checkOneOf(resolved.strategy, DETERMINISTIC_STRATEGIES, fn, "strategy (with output 'weights')");
  return resolved;
}
