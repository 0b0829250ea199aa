// What the study's runs say: per level, every condition's final held-out loss over seeds; each
// claim as a seed-paired difference with its 95 % interval and the verdict; the tokens SLM needs
// to reach CLM's final loss; the ratio sweep; what was trained on.
import { tokensToReach } from '../demo/analysis.js';
import { meanOf, pairedInterval, sdOf, type Verdict } from './intervals.js';
import { label, type StudyRun } from './runRecord.js';
import type { StudySettings } from './settings.js';

/** Final held-out loss of one condition at one level, over seeds. */
export interface ConditionRow {
  /** The condition's name in the report (`slm 0.3` for a sweep run). */
  label: string;
  condition: StudyRun['condition'];
  ratio: number;
  /** E-mail share of the noisy corpus (`null`: the reference model). */
  emailShare: number | null;
  /** Mean over seeds. */
  mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  sd: number;
  /** Every seed's final held-out loss. */
  values: { seed: number; loss: number }[];
}

/** One claim at one level: SLM's final held-out loss against another condition's, seed by seed. */
export interface Claim {
  /** E.g. `slm < clm`. */
  claim: string;
  emailShare: number;
  /** Seeds with both runs. */
  seeds: number[];
  /** SLM − other per seed (negative favours SLM). */
  differences: { seed: number; difference: number }[];
  meanDifference: number;
  /** Student-t 95 % interval of the mean difference (`null` with one seed). */
  ci95: [number, number] | null;
  verdict: Verdict;
}

/** The paper's Fig. 1 measure at one level: training tokens SLM needs to reach CLM's final held-out loss. */
export interface TokensToClmFinal {
  emailShare: number;
  /** Per seed: tokens (read off SLM's held-out curve, linear between points) or `null` when not reached. */
  perSeed: { seed: number; tokens: number | null }[];
  /** CLM's token budget. */
  clmTokens: number;
  /** Seeds where SLM reached it. */
  reached: number;
  /** Mean tokens and Student-t 95 % interval, when every seed reached it (else `null`). */
  meanTokens: number | null;
  ci95: [number, number] | null;
}

/** The summary block of study.json. */
export interface StudySummary {
  /** CLM learning rate chosen on the validation split, and every candidate's validation loss. */
  learningRate: { chosen: number; candidates: { learningRate: number; validationLoss: number }[] };
  /** How each seed's reference model stopped. */
  references: { seed: number; bestStep: number; steps: number; stoppedBy: string; tokens: number }[];
  /** Final held-out loss per condition and level. */
  table: ConditionRow[];
  /** Every claim at every level. */
  claims: Claim[];
  /** Per level. */
  tokensToClmFinal: TokensToClmFinal[];
  /** SLM at each ratio at the main level, over the ablation seeds (CLM is ratio 1). */
  sweep: { ratio: number; seeds: number[]; mean: number; ci95: [number, number] | null }[];
  /** E-mail share of the tokens trained on and of the batches, per condition and level (mean over the run and seeds). */
  emailShareTrained: { label: string; emailShare: number; selected: number; batches: number }[];
  /** Wall time of all runs, seconds (scoring and start-up not included). */
  seconds: number;
}

/**
 * The study's runs, each once: the calibration candidates, then the other runs. The chosen
 * candidate is also CLM's run of the first main seed at the main level, and is listed only as a
 * candidate.
 */
export function distinctRuns(
  calibration: readonly StudyRun[],
  runs: readonly StudyRun[],
  settings: StudySettings,
): StudyRun[] {
  const isChosenCandidate = (run: StudyRun) =>
    run.condition === 'clm' && run.emailShare === settings.levels[0] && run.seed === settings.seeds.main[0];
  return [...calibration, ...runs.filter((run) => !isChosenCandidate(run))];
}

/** The claims, in report order: SLM against each of these. */
export const CLAIM_OTHERS = ['clm', 'reference', 'random', 'oracle-filter', 'model-loss'] as const;

/** Summarises the runs of a study (see {@link StudySummary}). */
export function summarizeStudy(
  runs: readonly StudyRun[],
  calibration: readonly StudyRun[],
  settings: StudySettings,
): StudySummary {
  const ratio = settings.ratio;
  const at = (name: string, emailShare: number | null) =>
    runs.filter(
      (run) => label(run, ratio) === name && (name === 'reference' || run.emailShare === emailShare),
    );
  const references = runs.filter((run) => run.condition === 'reference');
  const groups = [
    ...new Map(
      runs.map((run) => [
        `${label(run, ratio)}@${run.emailShare}`,
        [label(run, ratio), run.emailShare] as const,
      ]),
    ).values(),
  ];
  const table = groups.map(([name, emailShare]): ConditionRow => {
    const group = at(name, emailShare);
    const losses = group.map((run) => run.finalHeldOutLoss);
    return {
      label: name,
      condition: group[0]!.condition,
      ratio: group[0]!.ratio,
      emailShare,
      mean: meanOf(losses),
      sd: sdOf(losses),
      values: group.map((run) => ({ seed: run.seed, loss: run.finalHeldOutLoss })),
    };
  });
  const claims: Claim[] = settings.levels.flatMap((emailShare) => {
    const slm = at('slm', emailShare);
    return CLAIM_OTHERS.flatMap((other) => {
      const pairs = slm.flatMap((run) => {
        const match = at(other, emailShare).find((candidate) => candidate.seed === run.seed);
        return match === undefined
          ? []
          : [{ seed: run.seed, difference: run.finalHeldOutLoss - match.finalHeldOutLoss }];
      });
      if (pairs.length === 0) return [];
      const interval = pairedInterval(pairs.map((pair) => pair.difference));
      return [
        {
          claim: `slm < ${other}`,
          emailShare,
          seeds: pairs.map((pair) => pair.seed),
          differences: pairs,
          meanDifference: interval.mean,
          ci95: interval.ci95,
          verdict: interval.verdict,
        },
      ];
    });
  });
  const tokensToClmFinal = settings.levels.flatMap((emailShare): TokensToClmFinal[] => {
    const clm = at('clm', emailShare);
    const perSeed = at('slm', emailShare).flatMap((run) => {
      const target = clm.find((candidate) => candidate.seed === run.seed);
      if (target === undefined) return [];
      const curve = run.curve.map((point) => ({ tokens: point.tokens, loss: point.heldOutLoss }));
      return [{ seed: run.seed, tokens: tokensToReach(curve, target.finalHeldOutLoss) ?? null }];
    });
    if (perSeed.length === 0) return [];
    const reached = perSeed.flatMap((entry) => (entry.tokens === null ? [] : [entry.tokens]));
    const interval = reached.length === perSeed.length ? pairedInterval(reached) : undefined;
    return [
      {
        emailShare,
        perSeed,
        clmTokens: clm[0]!.tokens,
        reached: reached.length,
        meanTokens: interval?.mean ?? null,
        ci95: interval?.ci95 ?? null,
      },
    ];
  });
  const main = settings.levels[0]!;
  const sweep = [...new Set([ratio, ...settings.sweep])]
    .sort((a, b) => a - b)
    .map((r) => {
      const group = at(label({ condition: 'slm', ratio: r }, ratio), main).filter((run) =>
        settings.seeds.ablations.includes(run.seed),
      );
      const interval = pairedInterval(group.map((run) => run.finalHeldOutLoss));
      return { ratio: r, seeds: group.map((run) => run.seed), mean: interval.mean, ci95: interval.ci95 };
    });
  return {
    learningRate: {
      chosen: runs.find((run) => run.condition === 'clm')?.learningRate ?? Number.NaN,
      candidates: calibration.map((run) => ({
        learningRate: run.learningRate,
        validationLoss: run.finalValidationLoss,
      })),
    },
    references: references.map((run) => ({
      seed: run.seed,
      bestStep: run.referenceTraining!.bestStep,
      steps: run.referenceTraining!.steps,
      stoppedBy: run.referenceTraining!.stoppedBy,
      tokens: run.tokens,
    })),
    table,
    claims,
    tokensToClmFinal,
    sweep,
    emailShareTrained: table
      .filter((row) => row.emailShare !== null)
      .map((row) => {
        const group = at(row.label, row.emailShare);
        return {
          label: row.label,
          emailShare: row.emailShare!,
          selected: meanOf(group.map((run) => meanOf(run.emailShareTrained.map((s) => s.selected)))),
          batches: meanOf(group.map((run) => meanOf(run.emailShareTrained.map((s) => s.batches)))),
        };
      }),
    seconds: distinctRuns(calibration, runs, settings).reduce((sum, run) => sum + run.seconds, 0),
  };
}
