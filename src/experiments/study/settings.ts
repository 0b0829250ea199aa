// Sizes and budgets of the study, and why each was chosen (docs/study.md gives the reasons).
import { SLMError } from '../../core/errors.js';
import { LLAMA_PRESETS, type LlamaConfig } from '../../model/config.js';
import type { FairCorpusSizes } from './corpus.js';

/** Seeds of each group of runs. */
export interface StudySeeds {
  /** Reference, CLM, SLM, random and the oracle filter at the first noise level (≥ 5 by design). */
  main: number[];
  /** The same conditions at the other noise levels. */
  otherLevels: number[];
  /** Model-loss selection, per-sequence SLM and the ratio sweep (first level only). */
  ablations: number[];
}

/** Reference-model training: until the validation loss stops improving. */
export interface ReferenceTraining {
  /** Steps between validation evaluations. */
  evalEvery: number;
  /** Evaluations without a new best before stopping. */
  patience: number;
  /** Length of the learning-rate schedule, and the most steps it may take (reported if reached). */
  maxSteps: number;
}

/** Everything that sets a study run. */
export interface StudySettings {
  /** Split sizes in bytes (`noisy`: tokens of each noisy corpus); `emailShare` is unused (see `levels`). */
  corpus: FairCorpusSizes;
  /** E-mail shares of the noisy corpus's tokens, one level each; the first is the main level. */
  levels: number[];
  /** Seed of the address shuffle that makes the splits (the same for every run seed). */
  dataSeed: number;
  /** The model every condition trains (the reference model too). */
  model: LlamaConfig;
  /** Window length `T`. */
  seqLen: number;
  /** Windows per step `B`; a run is one pass over the noisy windows, `floor(windows / B)` steps. */
  batchSize: number;
  /** Held-out evaluations per run, after the one at initialisation. */
  evaluations: number;
  /** How the reference model trains. */
  reference: ReferenceTraining;
  /** Peak learning rates tried for CLM (main level, first main seed); the best on validation is used by every run. */
  learningRates: number[];
  /** Selection ratio of SLM and of the `random` and `model-loss` controls. */
  ratio: number;
  /** Further SLM ratios (the ratio sweep, with `ratio`). */
  sweep: number[];
  /** Run seeds: initial weights, window order, random selection, and the reference model's seed. */
  seeds: StudySeeds;
}

/**
 * The default run (about 100 minutes on 2 cores with the native backend) and the quick one (CI,
 * the whole code path in well under a minute). Why these numbers: see docs/study.md.
 */
export const STUDY_SETTINGS: Readonly<Record<'default' | 'quick', StudySettings>> = {
  default: {
    corpus: {
      pieceBytes: 6_000,
      reference: 40_000,
      validation: 50_000,
      heldOut: 100_000,
      noisy: 2_100_000,
      emailShare: 0,
    },
    levels: [0.8, 0.5],
    dataSeed: 2024,
    model: { ...LLAMA_PRESETS.demo, num_hidden_layers: 2 },
    seqLen: 128,
    batchSize: 32,
    evaluations: 12,
    reference: { evalEvery: 10, patience: 5, maxSteps: 1000 },
    learningRates: [1.5e-3, 3e-3, 6e-3, 1.2e-2],
    ratio: 0.6,
    sweep: [0.3, 0.45, 0.8],
    seeds: { main: [1, 2, 3, 4, 5], otherLevels: [1, 2, 3, 4, 5], ablations: [1, 2] },
  },
  quick: {
    corpus: {
      pieceBytes: 1_000,
      reference: 1_000,
      validation: 3_000,
      heldOut: 3_000,
      noisy: 60_000,
      emailShare: 0,
    },
    levels: [0.8, 0.5],
    dataSeed: 2024,
    model: { ...LLAMA_PRESETS.nano, max_position_embeddings: 32 },
    seqLen: 32,
    batchSize: 64,
    evaluations: 10,
    reference: { evalEvery: 2, patience: 2, maxSteps: 12 },
    learningRates: [3e-3, 1e-2],
    ratio: 0.6,
    sweep: [0.3, 0.45, 0.8],
    seeds: { main: [1, 2], otherLevels: [1, 2], ablations: [1] },
  },
};

/** Narrowings of a preset from the command line. */
export interface StudyOverrides {
  /** At most this many seeds in each group. */
  seeds?: number;
  /** Only these e-mail shares (each must be one of the preset's). */
  levels?: number[];
}

/**
 * A preset, narrowed: fewer seeds per group, or a subset of the noise levels (the first one given
 * becomes the main level).
 *
 * @throws {SLMError} `BAD_OPTION` for a seed count below 1 or a level the preset does not have
 */
export function studySettingsFor(preset: 'default' | 'quick', overrides: StudyOverrides = {}): StudySettings {
  const base = STUDY_SETTINGS[preset];
  const { seeds, levels } = overrides;
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1))
    throw new SLMError('BAD_OPTION', `study: \`--seeds\` must be an integer ≥ 1, got ${seeds}`);
  for (const share of levels ?? [])
    if (!base.levels.includes(share))
      throw new SLMError(
        'BAD_OPTION',
        `study: \`--levels\` must be among ${base.levels.join(', ')}, got ${share}`,
      );
  const cap = (list: number[]) => (seeds === undefined ? list : list.slice(0, seeds));
  return {
    ...base,
    levels: levels === undefined || levels.length === 0 ? base.levels : levels,
    seeds: {
      main: cap(base.seeds.main),
      otherLevels: cap(base.seeds.otherLevels),
      ablations: cap(base.seeds.ablations),
    },
  };
}
