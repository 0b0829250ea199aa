// What the study's runs say: mean ± sd per condition with every seed's value, tokens to reach CLM,
// e-mail shares, token categories, the ratio sweep, the ceiling check and a verdict per claim.
import { type CurvePoint, type TokenCategories, tokensToReach } from '../demo/analysis.js';
import { TOKEN_KINDS, type TokenKind } from './corpus.js';
import { label, type StudyRun } from './runRecord.js';
import type { StudySettings } from './settings.js';

/** Final held-out loss of one condition over seeds. */
export interface ConditionSummary {
  /** The condition's name in the report (`slm 0.3` for a sweep run). */
  label: string;
  condition: StudyRun['condition'];
  ratio: number;
  /** Mean over seeds. */
  mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  sd: number;
  /** Every seed's final held-out loss. */
  values: { seed: number; loss: number }[];
  /** Mean final validation loss. */
  validation: number;
  /** Mean final held-out loss by kind of target byte. */
  byKind: Record<TokenKind, number>;
}

/** One claim, tested seed by seed. */
export interface Verdict {
  /** E.g. `SLM < CLM`. */
  claim: string;
  /** Seeds where it held. */
  heldIn: number[];
  /** Seeds tested. */
  seeds: number[];
  /** Mean of (SLM − other) final held-out loss; negative favours SLM. */
  meanDifference: number;
  /** Sample sd of that difference. */
  sdDifference: number;
  /** The verdict in plain language. */
  text: string;
}

/** The summary block of study.json. */
export interface StudySummary {
  /** CLM learning rate chosen on the validation split, and every candidate's validation loss. */
  learningRate: { chosen: number; candidates: { learningRate: number; validationLoss: number }[] };
  /** The reference model's validation curve and the step whose weights were kept. */
  reference: { bestStep: number; validationCurve: CurvePoint[] };
  /** Whether the prose-only ceiling beats CLM on validation by more than the seed spread. */
  ceiling: { margin: number; spread: number; clears: boolean; text: string };
  /** Final held-out loss per condition. */
  table: ConditionSummary[];
  /** Training tokens each selective condition needed to reach CLM's final held-out loss, per seed (null: never). */
  tokensToReachClm: Record<string, { seed: number; tokens: number | null }[]>;
  /** E-mail share of the trained-on tokens and of the batches, over the whole run (mean over seeds). */
  emailShare: Record<string, { selected: number; batches: number }>;
  /** Held-out token categories (mean over seeds). */
  categories: Record<string, TokenCategories>;
  /** SLM's final held-out loss at each ratio. */
  sweep: { ratio: number; mean: number; sd: number }[];
  /** One verdict per claim. */
  verdicts: Verdict[];
  /** Wall time of the whole study. */
  seconds: number;
}

/** What the summary needs beyond the runs. */
export interface SummaryContext {
  settings: StudySettings;
  calibration: { learningRate: number; validationLoss: number }[];
  learningRate: number;
  referenceCurve: CurvePoint[];
  referenceBestStep: number;
  seconds: number;
}

/** Mean of `values` (NaN when empty). */
export function meanOf(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation of `values` (0 for fewer than two). */
export function sdOf(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = meanOf(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1));
}

function averageRecord<K extends string>(
  records: Record<K, number>[],
  keys: readonly K[],
): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, meanOf(records.map((r) => r[key]))])) as Record<
    K,
    number
  >;
}

function verdict(claim: string, slm: StudyRun[], other: (seed: number) => number): Verdict {
  const seeds = slm.map((run) => run.seed);
  const differences = slm.map((run) => run.finalHeldOutLoss - other(run.seed));
  const heldIn = seeds.filter((_, i) => differences[i]! < 0);
  const meanDifference = meanOf(differences);
  const sdDifference = sdOf(differences);
  const how =
    heldIn.length === seeds.length
      ? `held in every seed (${seeds.length} of ${seeds.length})`
      : heldIn.length === 0
        ? `did not hold in any seed (0 of ${seeds.length})`
        : `held in ${heldIn.length} of ${seeds.length} seeds (seed ${heldIn.join(', ')}): not a consistent result`;
  const sign = meanDifference < 0 ? 'lower' : 'higher';
  return {
    claim,
    heldIn,
    seeds,
    meanDifference,
    sdDifference,
    text: `${claim}: ${how}; SLM's final held-out loss is ${Math.abs(meanDifference).toFixed(3)} ± ${sdDifference.toFixed(3)} nats/byte ${sign} on average.`,
  };
}

/** Summarises the runs of a study (see {@link StudySummary}). */
export function summarizeStudy(runs: StudyRun[], context: SummaryContext): StudySummary {
  const ratio = context.settings.ratio;
  const labels = [...new Set(runs.map((run) => label(run, ratio)))];
  const byLabel = (name: string) => runs.filter((run) => label(run, ratio) === name);
  const finalOf = (name: string, seed: number) =>
    byLabel(name).find((run) => run.seed === seed || run.condition === 'reference')!.finalHeldOutLoss;
  const table = labels.map((name): ConditionSummary => {
    const group = byLabel(name);
    const losses = group.map((run) => run.finalHeldOutLoss);
    return {
      label: name,
      condition: group[0]!.condition,
      ratio: group[0]!.ratio,
      mean: meanOf(losses),
      sd: sdOf(losses),
      values: group.map((run) => ({ seed: run.seed, loss: run.finalHeldOutLoss })),
      validation: meanOf(group.map((run) => run.finalValidationLoss)),
      byKind: averageRecord(
        group.map((run) => run.heldOutByKind),
        TOKEN_KINDS,
      ),
    };
  });
  const trained = labels.filter((name) => name !== 'reference');
  const clm = byLabel('clm');
  const ceiling = byLabel('ceiling');
  const margins = clm.map((run, i) => run.finalValidationLoss - ceiling[i]!.finalValidationLoss);
  const spread = sdOf(clm.map((run) => run.finalValidationLoss));
  const margin = meanOf(margins);
  const clears = margin > spread;
  const slm = byLabel('slm');
  return {
    learningRate: { chosen: context.learningRate, candidates: context.calibration },
    reference: { bestStep: context.referenceBestStep, validationCurve: context.referenceCurve },
    ceiling: {
      margin,
      spread,
      clears,
      text: clears
        ? `The prose-only ceiling beats CLM on validation by ${margin.toFixed(3)} nats/byte, more than the seed spread (${spread.toFixed(3)}): there is room for a selector to win.`
        : margin > 0
          ? `The prose-only ceiling beats CLM on validation by only ${margin.toFixed(3)} nats/byte, within the seed spread (${spread.toFixed(3)}): no selector can show a clear win at this model size and noise level.`
          : `The prose-only ceiling does not beat CLM on validation (it is ${(-margin).toFixed(3)} nats/byte worse): training on the prose tokens alone loses more than the e-mail tokens cost at this budget, so a selector that drops tokens has little room to win.`,
    },
    table,
    tokensToReachClm: Object.fromEntries(
      trained
        .filter((name) => name !== 'clm')
        .map((name) => [
          name,
          byLabel(name).map((run) => ({
            seed: run.seed,
            tokens: tokensToReach(run.curve, finalOf('clm', run.seed)) ?? null,
          })),
        ]),
    ),
    emailShare: Object.fromEntries(
      trained.map((name) => {
        const group = byLabel(name);
        return [
          name,
          {
            selected: meanOf(group.map((run) => meanOf(run.emailShare.map((s) => s.selected)))),
            batches: meanOf(group.map((run) => meanOf(run.emailShare.map((s) => s.batches)))),
          },
        ];
      }),
    ),
    categories: Object.fromEntries(
      trained.map((name) => [
        name,
        averageRecord(
          byLabel(name).map((run) => run.categories),
          ['H→H', 'L→H', 'H→L', 'L→L'] as const,
        ),
      ]),
    ),
    sweep: [ratio, ...context.settings.sweep]
      .sort((a, b) => a - b)
      .map((r) => {
        const losses = byLabel(label({ condition: 'slm', ratio: r }, ratio)).map(
          (run) => run.finalHeldOutLoss,
        );
        return { ratio: r, mean: meanOf(losses), sd: sdOf(losses) };
      }),
    verdicts: [
      verdict('SLM < CLM', slm, (seed) => finalOf('clm', seed)),
      verdict('SLM < reference', slm, (seed) => finalOf('reference', seed)),
      verdict('SLM < random', slm, (seed) => finalOf('random', seed)),
      verdict('SLM < model-loss', slm, (seed) => finalOf('model-loss', seed)),
    ],
    seconds: context.seconds,
  };
}
