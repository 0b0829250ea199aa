// Sizes and budgets of the study, and why each was chosen (docs/study.md gives the measurements).
import { LLAMA_PRESETS, type LlamaConfig } from '../../model/config.js';
import type { FairCorpusSizes } from './corpus.js';

/** Everything that sets a study run. */
export interface StudySettings {
  /** Split sizes (bytes) and the e-mail share of the noisy corpus. */
  corpus: FairCorpusSizes;
  /** Seed of the address shuffle that makes the splits (the same for every run seed). */
  dataSeed: number;
  /** The model every condition trains (the reference model too). */
  model: LlamaConfig;
  /** Window length `T`. */
  seqLen: number;
  /** Windows per step `B`. */
  batchSize: number;
  /** Optimizer steps of every condition (the same token budget for all). */
  trainSteps: number;
  /** Held-out evaluations per run, after the one at initialisation. */
  evaluations: number;
  /** Steps of reference-model training; the weights with the best validation loss are kept. */
  referenceSteps: number;
  /** Reference-model steps between validation evaluations. */
  referenceEvalEvery: number;
  /** Peak learning rates tried for CLM on the validation split; the best is used by every condition. */
  learningRates: number[];
  /** Selection ratio of SLM and of the `random` and `model-loss` controls. */
  ratio: number;
  /** Further SLM ratios (the ratio sweep, with `ratio`). */
  sweep: number[];
  /** Noisy windows on which selected- and unselected-token losses are measured. */
  probeWindows: number;
  /** Run seeds: initial weights, window order, random selection. */
  seeds: number[];
}

/**
 * The default run (about 40 minutes on 2 cores with the native backend) and the quick one (CI,
 * the whole code path in well under a minute). Why these numbers: see docs/study.md.
 */
export const STUDY_SETTINGS: Readonly<Record<'default' | 'quick', StudySettings>> = {
  default: {
    corpus: {
      pieceBytes: 6_000,
      reference: 250_000,
      validation: 50_000,
      heldOut: 80_000,
      noisy: 660_000,
      emailShare: 0.5,
    },
    dataSeed: 2024,
    model: { ...LLAMA_PRESETS.demo, num_hidden_layers: 2 },
    seqLen: 128,
    batchSize: 32,
    trainSteps: 160,
    evaluations: 4,
    referenceSteps: 160,
    referenceEvalEvery: 20,
    learningRates: [6e-3, 1.2e-2],
    ratio: 0.6,
    sweep: [0.3, 0.45, 0.8],
    probeWindows: 32,
    seeds: [1, 2, 3],
  },
  quick: {
    corpus: {
      pieceBytes: 2_000,
      reference: 12_000,
      validation: 4_000,
      heldOut: 4_000,
      noisy: 20_000,
      emailShare: 0.5,
    },
    dataSeed: 2024,
    model: { ...LLAMA_PRESETS.nano, max_position_embeddings: 32 },
    seqLen: 32,
    batchSize: 8,
    trainSteps: 8,
    evaluations: 2,
    referenceSteps: 8,
    referenceEvalEvery: 4,
    learningRates: [3e-3, 1e-2],
    ratio: 0.6,
    sweep: [0.3, 0.45, 0.8],
    probeWindows: 4,
    seeds: [1, 2],
  },
};
