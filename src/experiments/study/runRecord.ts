// One run of the study as study.json records it, and its display label: the leaf the runner, the
// summary and the report share.
import type { SelectionScope } from '../../core/groups.js';
import type { SelectionStrategy } from '../../core/selectionScores.js';
import type { TokenKind } from './corpus.js';

/** The conditions of study.json. */
export type StudyCondition =
  | 'reference'
  | 'clm'
  | 'slm'
  | 'random'
  | 'oracle-filter'
  | 'model-loss'
  | 'slm-sequence';

/** A held-out loss measured after `tokens` training tokens. */
export interface HeldOutPoint {
  tokens: number;
  heldOutLoss: number;
}

/** How the reference model's training ended. */
export interface ReferenceTrainingRecord {
  /** The step whose weights were kept (best validation loss). */
  bestStep: number;
  /** Steps taken. */
  steps: number;
  /** `'patience'`: the validation loss stopped improving; `'max steps'`: the cap ended it. */
  stoppedBy: 'patience' | 'max steps';
  /** Validation loss at every evaluation. */
  validationCurve: { step: number; validationLoss: number }[];
}

/** One training run of the study (the first seven fields and `curve` are the study.json contract). */
export interface StudyRun {
  condition: StudyCondition;
  /** Seed of the initial weights, window order and random selection (the reference model: its seed). */
  seed: number;
  /** E-mail share of the noisy corpus trained on; `null` for the reference model. */
  emailShare: number | null;
  /** Share of valid tokens trained on (1 for the reference model, CLM and the oracle filter). */
  ratio: number;
  /** Selection strategy; `'none'` without selection. */
  strategy: SelectionStrategy | 'none';
  /** Selection group. */
  scope: SelectionScope;
  /** Mean held-out loss at the end, nats per byte. */
  finalHeldOutLoss: number;
  /** Held-out loss at initialisation and after every evaluation interval. */
  curve: HeldOutPoint[];
  /** Peak learning rate. */
  learningRate: number;
  /** Training tokens seen (windows × T). */
  tokens: number;
  /** Mean validation loss at the end. */
  finalValidationLoss: number;
  /** Final held-out loss by kind of target byte. */
  heldOutByKind: Record<TokenKind, number>;
  /** E-mail share of the tokens trained on, and of the batches, per evaluation interval. */
  emailShareTrained: { tokens: number; selected: number; batches: number }[];
  /** The reference model's training (reference runs only). */
  referenceTraining?: ReferenceTrainingRecord;
  /** Wall time of the run, seconds. */
  seconds: number;
  /** The commit it ran on (`git rev-parse HEAD`, `+dirty` with uncommitted changes), or `unknown`. */
  commit: string;
}

/** A condition's name in the report: SLM at another ratio than the main one carries its ratio. */
export function label(run: Pick<StudyRun, 'condition' | 'ratio'>, mainRatio: number): string {
  return run.condition === 'slm' && run.ratio !== mainRatio ? `slm ${run.ratio}` : run.condition;
}
