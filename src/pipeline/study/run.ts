// The study: SLM against CLM, the reference model, a prose-only ceiling and selection controls, over
// seeds, on one fair split (see corpus.ts). Every condition of a seed starts from the same weights,
// sees the same windows in the same order and gets the same token budget.
import * as tf from '@tensorflow/tfjs';
import type { SelectionScope } from '../../core/groups.js';
import type { SelectionStrategy } from '../../core/selectionScores.js';
import type { SelectionOptions } from '../../core/selectionSettings.js';
import { topKMask } from '../../core/topKMask.js';
import { LlamaModel } from '../../model/llama.js';
import { type CurvePoint, tokenCategories } from '../demo/analysis.js';
import { corpusLosses, memorySource, TokenWindows } from '../memoryWindows.js';
import { windowLosses } from '../tokenLosses.js';
import { trainingSteps, type WindowSource } from '../trainingLoop.js';
import { buildFairCorpus, type FairCorpus, TOKEN_KINDS, type TokenKind, tokenKind } from './corpus.js';
import { label, type StudyCondition, type StudyRun } from './runRecord.js';
import type { StudySettings } from './settings.js';
import { type StudySummary, summarizeStudy } from './summary.js';

/** Everything study.json holds. */
export interface StudyResult {
  settings: StudySettings & { backend: string; data: Record<string, string | number> };
  runs: StudyRun[];
  summary: StudySummary;
}

/** Progress messages of a study. */
export type StudyProgress = (stage: string, done: number, total: number) => void;

interface ConditionSpec {
  condition: Exclude<StudyCondition, 'reference'>;
  ratio: number;
  strategy: SelectionStrategy | 'none';
  scope: SelectionScope;
}

/** The conditions each seed trains, the prose-only ceiling first. */
export function studyConditions(settings: StudySettings): ConditionSpec[] {
  const selective = (
    condition: ConditionSpec['condition'],
    strategy: SelectionStrategy,
    ratio = settings.ratio,
  ) => ({
    condition,
    ratio,
    strategy,
    scope: condition === 'slm-sequence' ? ('sequence' as const) : ('batch' as const),
  });
  return [
    { condition: 'ceiling', ratio: 1, strategy: 'none', scope: 'batch' },
    { condition: 'clm', ratio: 1, strategy: 'none', scope: 'batch' },
    selective('slm', 'excess'),
    selective('random', 'random'),
    selective('model-loss', 'model-loss'),
    selective('slm-sequence', 'excess'),
    ...settings.sweep.map((ratio) => selective('slm', 'excess', ratio)),
  ];
}

/** The splits as windows, with what the runs measure on them. */
interface StudyData {
  corpus: FairCorpus;
  noisy: TokenWindows;
  validation: TokenWindows;
  heldOut: TokenWindows;
  /** Kind of each held-out target `[count·T]`. */
  heldOutKinds: TokenKind[];
  /** Per noisy window position `[count·T]`: 1 where the target is e-mail. */
  noisyEmail: Uint8Array;
}

/** `count` noisy windows spread evenly over the corpus: where selected- and unselected-token losses are measured. */
function probeWindowIds(count: number, windows: number): number[] {
  return Array.from({ length: Math.min(count, windows) }, (_, i) =>
    Math.floor(((i + 0.5) * windows) / count),
  );
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

async function studyData(settings: StudySettings): Promise<StudyData> {
  const corpus = await buildFairCorpus(settings.corpus, settings.dataSeed);
  const T = settings.seqLen;
  const noisy = new TokenWindows(corpus.noisy, T);
  const heldOut = new TokenWindows(corpus.heldOut, T);
  const { targets } = heldOut.batch(Array.from({ length: heldOut.count }, (_, w) => w));
  return {
    corpus,
    noisy,
    validation: new TokenWindows(corpus.validation, T),
    heldOut,
    heldOutKinds: Array.from(targets, tokenKind),
    noisyEmail: corpus.noisySource.subarray(1, noisy.count * T + 1),
  };
}

interface Evaluation {
  loss: number;
  losses: Float32Array;
}

async function evaluate(model: LlamaModel, windows: TokenWindows, batchSize: number): Promise<Evaluation> {
  const losses = await corpusLosses(model, windows, batchSize);
  return { loss: mean(losses), losses };
}

function byKind(losses: Float32Array, kinds: readonly TokenKind[]): Record<TokenKind, number> {
  return Object.fromEntries(
    TOKEN_KINDS.map((kind) => [kind, mean(Array.from(losses).filter((_, i) => kinds[i] === kind))]),
  ) as Record<TokenKind, number>;
}

function selectionOf(spec: ConditionSpec, seed: number): SelectionOptions | undefined {
  if (spec.strategy === 'none') return undefined;
  return { ratio: spec.ratio, strategy: spec.strategy, scope: spec.scope, seed };
}

/** Trains CLM with each candidate learning rate and returns the validation loss of each. */
async function calibrate(
  settings: StudySettings,
  data: StudyData,
  onProgress: StudyProgress,
): Promise<{ learningRate: number; validationLoss: number }[]> {
  const results = [];
  for (const [index, learningRate] of settings.learningRates.entries()) {
    const model = LlamaModel.create(settings.model, { seed: settings.seeds[0]! });
    for await (const { stats } of trainingSteps({
      model,
      source: memorySource(data.noisy),
      seqLen: settings.seqLen,
      batchSize: settings.batchSize,
      steps: settings.trainSteps,
      learningRate,
      seed: settings.seeds[0]!,
    }))
      onProgress(
        `calibrating CLM learning rate ${index + 1}/${settings.learningRates.length}`,
        stats.step,
        settings.trainSteps,
      );
    results.push({
      learningRate,
      validationLoss: (await evaluate(model, data.validation, settings.batchSize)).loss,
    });
    model.dispose();
  }
  return results;
}

/** Trains the reference model on the reference set, keeping the weights with the best validation loss. */
async function trainReference(
  settings: StudySettings,
  data: StudyData,
  learningRate: number,
  onProgress: StudyProgress,
): Promise<{ model: LlamaModel; curve: CurvePoint[]; bestStep: number }> {
  const seed = 100;
  const model = LlamaModel.create(settings.model, { seed });
  const T = settings.seqLen;
  const curve: CurvePoint[] = [];
  let best: { loss: number; step: number; weights: tf.Tensor[] } | undefined;
  for await (const { stats } of trainingSteps({
    model,
    source: memorySource(new TokenWindows(data.corpus.reference, T)),
    seqLen: T,
    batchSize: settings.batchSize,
    steps: settings.referenceSteps,
    learningRate,
    seed,
  })) {
    onProgress('reference model', stats.step, settings.referenceSteps);
    if (stats.step % settings.referenceEvalEvery !== 0 && stats.step !== settings.referenceSteps) continue;
    const { loss } = await evaluate(model, data.validation, settings.batchSize);
    curve.push({ tokens: stats.step * settings.batchSize * T, loss });
    if (best === undefined || loss < best.loss) {
      if (best !== undefined) tf.dispose(best.weights);
      best = { loss, step: stats.step, weights: model.trainableVariables().map((v) => tf.clone(v)) };
    }
  }
  model.trainableVariables().forEach((variable, i) => {
    variable.assign(best!.weights[i]!);
  });
  tf.dispose(best!.weights);
  return { model, curve, bestStep: best!.step };
}

/** What one condition's training produced, before the probe selection is known. */
interface TrainedRun extends Omit<StudyRun, 'probe'> {
  /** Probe losses `[P·T]` at each evaluation. */
  probeLosses: Float32Array[];
}

async function trainCondition(
  spec: ConditionSpec,
  seed: number,
  settings: StudySettings,
  data: StudyData,
  refLoss: Float32Array,
  probeIds: number[],
  learningRate: number,
  onProgress: StudyProgress,
): Promise<TrainedRun> {
  const started = Date.now();
  const T = settings.seqLen;
  const tokensPerStep = settings.batchSize * T;
  const evalEvery = Math.max(1, Math.floor(settings.trainSteps / settings.evaluations));
  const model = LlamaModel.create(settings.model, { seed });
  const source: WindowSource = memorySource(data.noisy, {
    refLoss,
    ...(spec.condition === 'ceiling' ? { ignore: data.noisyEmail } : {}),
  });
  const heldOutLosses: Float32Array[] = [];
  const curve: CurvePoint[] = [];
  const probe: Float32Array[] = [];
  const emailShare: StudyRun['emailShare'] = [];
  const measure = async (step: number) => {
    const result = await evaluate(model, data.heldOut, settings.batchSize);
    heldOutLosses.push(result.losses);
    curve.push({ tokens: step * tokensPerStep, loss: result.loss });
    probe.push(await windowLosses(model, { windows: probeIds, ...data.noisy.batch(probeIds) }, T));
  };
  await measure(0);
  let [selectedEmail, selected, batchEmail, batchTokens] = [0, 0, 0, 0];
  const selection = selectionOf(spec, seed);
  for await (const { stats, windows } of trainingSteps({
    model,
    source,
    seqLen: T,
    batchSize: settings.batchSize,
    steps: settings.trainSteps,
    learningRate,
    seed,
    keepMask: true,
    ...(selection === undefined ? {} : { selective: selection }),
  })) {
    onProgress(`seed ${seed}: ${label(spec)}`, stats.step, settings.trainSteps);
    const email = data.noisy.rows(data.noisyEmail, windows);
    for (let i = 0; i < email.length; i++) {
      selectedEmail += stats.mask![i]! * email[i]!;
      selected += stats.mask![i]!;
      batchEmail += email[i]!;
      batchTokens++;
    }
    if (stats.step % evalEvery === 0 || stats.step === settings.trainSteps) {
      await measure(stats.step);
      emailShare.push({
        tokens: stats.step * tokensPerStep,
        selected: selected === 0 ? 0 : selectedEmail / selected,
        batches: batchEmail / batchTokens,
      });
      [selectedEmail, selected, batchEmail, batchTokens] = [0, 0, 0, 0];
    }
  }
  const finalHeldOut = heldOutLosses[heldOutLosses.length - 1]!;
  const run: TrainedRun = {
    ...spec,
    seed,
    tokens: settings.trainSteps * tokensPerStep,
    finalHeldOutLoss: curve[curve.length - 1]!.loss,
    curve,
    finalValidationLoss: (await evaluate(model, data.validation, settings.batchSize)).loss,
    heldOutByKind: byKind(finalHeldOut, data.heldOutKinds),
    emailShare,
    categories: tokenCategories(heldOutLosses.slice(1)),
    seconds: (Date.now() - started) / 1000,
    probeLosses: probe,
  };
  model.dispose();
  return run;
}

/**
 * The probe curves of a seed's runs: at each evaluation, the tokens SLM (excess loss, the main
 * ratio) would select with its model at that point, and every run's mean loss on them and on the rest.
 */
function probeCurves(runs: TrainedRun[], probeRefLoss: Float32Array, ratio: number): StudyRun[] {
  const slm = runs.find((run) => run.condition === 'slm' && run.ratio === ratio)!;
  const masks = slm.probeLosses.map((losses) =>
    topKMask(
      losses.map((loss, i) => loss - probeRefLoss[i]!),
      { ratio },
    ),
  );
  return runs.map(({ probeLosses, ...run }) => ({
    ...run,
    probe: probeLosses.map((losses, k) => ({
      tokens: run.curve[k]!.tokens,
      selected: mean(losses.filter((_, i) => masks[k]![i] === 1)),
      unselected: mean(losses.filter((_, i) => masks[k]![i] === 0)),
    })),
  }));
}

/**
 * Runs the study: builds the fair split, calibrates CLM's learning rate on the validation split,
 * trains the reference model (best validation checkpoint), scores the noisy corpus once, then for
 * every seed trains each condition of {@link studyConditions} and measures it on the held-out set.
 * `onSeedDone` receives the result so far after each seed but the last (to write partial reports).
 */
export async function runStudy(
  settings: StudySettings,
  backend: string,
  onProgress: StudyProgress = () => undefined,
  onSeedDone: (partial: StudyResult) => Promise<void> | void = () => undefined,
): Promise<StudyResult> {
  const started = Date.now();
  const data = await studyData(settings);
  const T = settings.seqLen;
  const calibration = await calibrate(settings, data, onProgress);
  const learningRate = calibration.reduce((a, b) =>
    b.validationLoss < a.validationLoss ? b : a,
  ).learningRate;

  const reference = await trainReference(settings, data, learningRate, onProgress);
  onProgress('scoring the noisy corpus', 0, 1);
  const refLoss = await corpusLosses(reference.model, data.noisy, settings.batchSize);
  onProgress('scoring the noisy corpus', 1, 1);
  const probeIds = probeWindowIds(settings.probeWindows, data.noisy.count);
  const probeRefLoss = data.noisy.rows(refLoss, probeIds);
  const referenceHeldOut = await evaluate(reference.model, data.heldOut, settings.batchSize);
  const referenceRun: StudyRun = {
    condition: 'reference',
    ratio: 1,
    strategy: 'none',
    scope: 'batch',
    seed: 100,
    tokens: reference.bestStep * settings.batchSize * T,
    finalHeldOutLoss: referenceHeldOut.loss,
    curve: [{ tokens: reference.bestStep * settings.batchSize * T, loss: referenceHeldOut.loss }],
    finalValidationLoss: Math.min(...reference.curve.map((point) => point.loss)),
    heldOutByKind: byKind(referenceHeldOut.losses, data.heldOutKinds),
    probe: [],
    emailShare: [],
    categories: { 'H→H': 0, 'L→H': 0, 'H→L': 0, 'L→L': 0 },
    seconds: 0,
  };
  reference.model.dispose();

  const runs: StudyRun[] = [referenceRun];
  const resultSoFar = (): StudyResult => ({
    settings: { ...settings, backend, data: { ...data.corpus.description, ...splitTokens(data) } },
    runs,
    summary: summarizeStudy(runs, {
      settings,
      calibration,
      learningRate,
      referenceCurve: reference.curve,
      referenceBestStep: reference.bestStep,
      seconds: (Date.now() - started) / 1000,
    }),
  });
  for (const seed of settings.seeds) {
    const trained: TrainedRun[] = [];
    for (const spec of studyConditions(settings))
      trained.push(
        await trainCondition(spec, seed, settings, data, refLoss, probeIds, learningRate, onProgress),
      );
    runs.push(...probeCurves(trained, probeRefLoss, settings.ratio));
    if (seed !== settings.seeds[settings.seeds.length - 1]) await onSeedDone(resultSoFar());
  }
  return resultSoFar();
}

function splitTokens(data: StudyData): Record<string, number> {
  return {
    referenceTokens: data.corpus.reference.length,
    validationTokens: data.corpus.validation.length,
    heldOutTokens: data.corpus.heldOut.length,
    noisyTokens: data.corpus.noisy.length,
  };
}
