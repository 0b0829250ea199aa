// One run of the study as study.json records it, and its display label: the leaf the runner, the
// summary and the report share.
import type { SelectionScope } from '../../core/groups.js';
import type { SelectionStrategy } from '../../core/selectionScores.js';
import { DEFAULT_RATIO } from '../../core/selectionSettings.js';
import type { CurvePoint, TokenCategories } from '../demo/analysis.js';
import type { TokenKind } from './corpus.js';

/** The conditions of study.json. */
export type StudyCondition =
  | 'reference'
  | 'clm'
  | 'ceiling'
  | 'slm'
  | 'random'
  | 'model-loss'
  | 'slm-sequence';

/** One training run of the study (the first eight fields are the study.json contract). */
export interface StudyRun {
  condition: StudyCondition;
  /** Share of valid tokens trained on (1 for the reference, CLM and the ceiling). */
  ratio: number;
  /** Selection strategy; `'none'` without selection. */
  strategy: SelectionStrategy | 'none';
  /** Selection group. */
  scope: SelectionScope;
  /** Seed of the initial weights and window order (the reference model: its own seed, shared by all). */
  seed: number;
  /** Training tokens seen (windows × T). */
  tokens: number;
  /** Mean held-out loss at the end, nats per byte. */
  finalHeldOutLoss: number;
  /** Held-out loss over training. */
  curve: CurvePoint[];
  /** Mean validation loss at the end. */
  finalValidationLoss: number;
  /** Final held-out loss by kind of target byte. */
  heldOutByKind: Record<TokenKind, number>;
  /** Loss on the probe tokens SLM (ratio `settings.ratio`) selects, and on the rest, over training. */
  probe: { tokens: number; selected: number; unselected: number }[];
  /** E-mail share of the tokens trained on, and of the batches, per interval. */
  emailShare: { tokens: number; selected: number; batches: number }[];
  /** Held-out token categories from the first evaluation on. */
  categories: TokenCategories;
  /** Wall time of the run. */
  seconds: number;
}

/** A condition's name in the report: the sweep's SLM runs carry their ratio. */
export function label(spec: Pick<StudyRun, 'condition' | 'ratio'>, mainRatio = DEFAULT_RATIO): string {
  return spec.condition === 'slm' && spec.ratio !== mainRatio ? `slm ${spec.ratio}` : spec.condition;
}
