// The study: SLM against CLM, the reference model, an oracle filter and selection controls, at two
// noise levels, over seeds. Every condition of a seed starts from the same weights, makes one pass
// over the same windows in the same order with the same schedule; every finished run is written at
// once (runStore.ts), so a killed study resumes without repeating or changing a run.
import * as tf from '@tensorflow/tfjs';
import type { SelectionScope } from '../../core/groups.js';
import type { SelectionStrategy } from '../../core/selectionScores.js';
import { LlamaModel } from '../../model/llama.js';
import { corpusLosses, memorySource, TokenWindows } from '../../pipeline/memoryWindows.js';
import { currentCommit, runEnvironment } from '../../pipeline/runEnvironment.js';
import { trainingSteps } from '../../pipeline/trainingLoop.js';
import { buildStudyCorpus, type StudyCorpus, TOKEN_KINDS, type TokenKind, tokenKind } from './corpus.js';
import { meanOf } from './intervals.js';
import type { HeldOutPoint, ReferenceTrainingRecord, StudyCondition, StudyRun } from './runRecord.js';
import { RunStore } from './runStore.js';
import type { StudySettings } from './settings.js';
import { distinctRuns, type StudySummary, summarizeStudy } from './summary.js';

/** Everything study.json holds. */
export interface StudyResult {
  /** The commit this process ran on (each run records its own; see `runCommits`). */
  commit: string;
  /** The distinct commits the finished runs ran on (a resumed study may span several). */
  runCommits: string[];
  /** CPU model, core count and tfjs backend. */
  machine: { cpu: string; cores: number; backend: string };
  /** Runs planned and finished: a study read with `finishedOnly` while it runs may be partial. */
  progress: { plannedRuns: number; finishedRuns: number };
  /**
   * The settings as study.json's contract has them: {@link StudySettings} except that
   * `corpus.reference` is the reference set's tokens (its byte budget is `corpus.referenceBytes`;
   * the other sizes stay in bytes) and `levels` holds each level's measured sizes.
   */
  settings: Omit<StudySettings, 'corpus' | 'levels'> & {
    corpus: StudySettings['corpus'] & {
      /** The reference set's byte budget (`StudySettings.corpus.reference`). */
      referenceBytes: number;
      /** Tokens of the validation and held-out sets. */
      validationTokens: number;
      heldOutTokens: number;
      /** Where each split's text came from. */
      description: Record<string, string | number>;
    };
    /** One per noise level, the main level first: tokens of the noisy corpus, of its prose, and trained on per run. */
    levels: { emailShare: number; noisyTokens: number; proseTokens: number; trainTokens: number }[];
  };
  /** CLM at each candidate learning rate (main level, first main seed). */
  calibration: StudyRun[];
  runs: StudyRun[];
  summary: StudySummary;
}

/** Progress messages of a study: the stage (with the run's place in the plan and the ETA), steps done of total. */
export type StudyProgress = (stage: string, done: number, total: number) => void;

/** What one training run is. */
interface RunSpec {
  condition: Exclude<StudyCondition, 'reference'>;
  ratio: number;
  strategy: SelectionStrategy | 'none';
  scope: SelectionScope;
}

const CLM: RunSpec = { condition: 'clm', ratio: 1, strategy: 'none', scope: 'batch' };

function selective(condition: RunSpec['condition'], strategy: SelectionStrategy, ratio: number): RunSpec {
  return { condition, ratio, strategy, scope: condition === 'slm-sequence' ? 'sequence' : 'batch' };
}

/** The conditions trained at every level and main seed, CLM first. */
export function mainConditions(settings: StudySettings): RunSpec[] {
  return [
    CLM,
    selective('slm', 'excess', settings.ratio),
    selective('random', 'random', settings.ratio),
    { condition: 'oracle-filter', ratio: 1, strategy: 'none', scope: 'batch' },
  ];
}

/** The conditions trained at the main level for the ablation seeds only. */
export function ablationConditions(settings: StudySettings): RunSpec[] {
  return [
    selective('model-loss', 'model-loss', settings.ratio),
    selective('slm-sequence', 'excess', settings.ratio),
    ...settings.sweep.map((ratio) => selective('slm', 'excess', ratio)),
  ];
}

/** A run's file name: condition, ratio, level, learning rate and seed. */
function runId(spec: RunSpec, emailShare: number, learningRate: number, seed: number): string {
  const ratio = spec.strategy === 'none' ? '' : `-r${spec.ratio}`;
  return `${spec.condition}${ratio}-e${emailShare}-lr${learningRate}-s${seed}`;
}

function byKind(losses: Float32Array, kinds: readonly TokenKind[]): Record<TokenKind, number> {
  return Object.fromEntries(
    TOKEN_KINDS.map((kind) => [kind, meanOf(Array.from(losses).filter((_, i) => kinds[i] === kind))]),
  ) as Record<TokenKind, number>;
}

/** The splits as windows. */
interface StudyData {
  corpus: StudyCorpus;
  reference: TokenWindows;
  validation: TokenWindows;
  heldOut: TokenWindows;
  /** Kind of each held-out target `[count·T]`. */
  heldOutKinds: TokenKind[];
  /** Per level: the noisy windows and, per window position `[count·T]`, 1 where the target is e-mail. */
  levels: { emailShare: number; windows: TokenWindows; email: Uint8Array; steps: number }[];
}

async function studyData(settings: StudySettings): Promise<StudyData> {
  const corpus = await buildStudyCorpus(settings.corpus, settings.levels, settings.dataSeed);
  const T = settings.seqLen;
  const heldOut = new TokenWindows(corpus.heldOut, T);
  const { targets } = heldOut.batch(Array.from({ length: heldOut.count }, (_, w) => w));
  return {
    corpus,
    reference: new TokenWindows(corpus.reference, T),
    validation: new TokenWindows(corpus.validation, T),
    heldOut,
    heldOutKinds: Array.from(targets, tokenKind),
    levels: corpus.levels.map((level) => {
      const windows = new TokenWindows(level.tokens, T);
      return {
        emailShare: level.emailShare,
        windows,
        email: level.source.subarray(1, windows.count * T + 1),
        steps: Math.floor(windows.count / settings.batchSize),
      };
    }),
  };
}

/** Shared by every run of one study. */
interface StudyContext {
  settings: StudySettings;
  data: StudyData;
  commit: string;
  onProgress: (done: number, total: number) => void;
}

async function heldOutLosses(model: LlamaModel, context: StudyContext): Promise<Float32Array> {
  return corpusLosses(model, context.data.heldOut, context.settings.batchSize);
}

async function validationLoss(model: LlamaModel, context: StudyContext): Promise<number> {
  return meanOf(await corpusLosses(model, context.data.validation, context.settings.batchSize));
}

/** Trains one condition from scratch over one pass of a level's noisy windows. */
async function trainRun(
  spec: RunSpec,
  seed: number,
  levelIndex: number,
  learningRate: number,
  refLoss: Float32Array | undefined,
  context: StudyContext,
): Promise<StudyRun> {
  const started = Date.now();
  const { settings, data } = context;
  const level = data.levels[levelIndex]!;
  const T = settings.seqLen;
  const tokensPerStep = settings.batchSize * T;
  const evalEvery = Math.max(1, Math.floor(level.steps / settings.evaluations));
  const model = LlamaModel.create(settings.model, { seed });
  const curve: HeldOutPoint[] = [];
  const emailShareTrained: StudyRun['emailShareTrained'] = [];
  let lastHeldOut: Float32Array = new Float32Array(0);
  const measure = async (step: number) => {
    lastHeldOut = await heldOutLosses(model, context);
    curve.push({ tokens: step * tokensPerStep, heldOutLoss: meanOf(lastHeldOut) });
  };
  await measure(0);
  let [selectedEmail, selected, batchEmail, batchTokens] = [0, 0, 0, 0];
  for await (const { stats, windows } of trainingSteps({
    model,
    source: memorySource(level.windows, {
      ...(refLoss === undefined ? {} : { refLoss }),
      ...(spec.condition === 'oracle-filter' ? { ignore: level.email } : {}),
    }),
    seqLen: T,
    batchSize: settings.batchSize,
    steps: level.steps,
    learningRate,
    seed,
    keepMask: true,
    ...(spec.strategy === 'none'
      ? {}
      : { selective: { ratio: spec.ratio, strategy: spec.strategy, scope: spec.scope, seed } }),
  })) {
    context.onProgress(stats.step, level.steps);
    const email = level.windows.rows(level.email, windows);
    for (let i = 0; i < email.length; i++) {
      selectedEmail += stats.mask![i]! * email[i]!;
      selected += stats.mask![i]!;
      batchEmail += email[i]!;
      batchTokens++;
    }
    if (stats.step % evalEvery === 0 || stats.step === level.steps) {
      await measure(stats.step);
      emailShareTrained.push({
        tokens: stats.step * tokensPerStep,
        selected: selected === 0 ? 0 : selectedEmail / selected,
        batches: batchEmail / batchTokens,
      });
      [selectedEmail, selected, batchEmail, batchTokens] = [0, 0, 0, 0];
    }
  }
  const run: StudyRun = {
    condition: spec.condition,
    seed,
    emailShare: level.emailShare,
    ratio: spec.ratio,
    strategy: spec.strategy,
    scope: spec.scope,
    finalHeldOutLoss: curve[curve.length - 1]!.heldOutLoss,
    curve,
    learningRate,
    tokens: level.steps * tokensPerStep,
    finalValidationLoss: await validationLoss(model, context),
    heldOutByKind: byKind(lastHeldOut, data.heldOutKinds),
    emailShareTrained,
    seconds: (Date.now() - started) / 1000,
    commit: context.commit,
  };
  model.dispose();
  return run;
}

/**
 * Trains a reference model on the reference set until its validation loss has not improved for
 * `patience` evaluations, keeping the best weights.
 */
async function trainReference(
  seed: number,
  learningRate: number,
  context: StudyContext,
): Promise<{ model: LlamaModel; training: ReferenceTrainingRecord; tokens: number }> {
  const { settings, data } = context;
  const { evalEvery, patience, maxSteps } = settings.reference;
  const model = LlamaModel.create(settings.model, { seed });
  const validationCurve: ReferenceTrainingRecord['validationCurve'] = [];
  let best: { loss: number; step: number; weights: tf.Tensor[] } | undefined;
  let steps = 0;
  let stoppedBy: ReferenceTrainingRecord['stoppedBy'] = 'max steps';
  for await (const { stats } of trainingSteps({
    model,
    source: memorySource(data.reference),
    seqLen: settings.seqLen,
    batchSize: settings.batchSize,
    steps: maxSteps,
    learningRate,
    seed,
  })) {
    context.onProgress(stats.step, maxSteps);
    steps = stats.step;
    if (stats.step % evalEvery !== 0) continue;
    const loss = await validationLoss(model, context);
    validationCurve.push({ step: stats.step, validationLoss: loss });
    if (best === undefined || loss < best.loss) {
      if (best !== undefined) tf.dispose(best.weights);
      best = { loss, step: stats.step, weights: model.trainableVariables().map((v) => tf.clone(v)) };
    } else if (validationCurve.length - validationCurve.findIndex((p) => p.step === best!.step) > patience) {
      stoppedBy = 'patience';
      break;
    }
  }
  model.trainableVariables().forEach((variable, i) => {
    variable.assign(best!.weights[i]!);
  });
  tf.dispose(best!.weights);
  return {
    model,
    training: { bestStep: best!.step, steps, stoppedBy, validationCurve },
    tokens: best!.step * settings.batchSize * settings.seqLen,
  };
}

/** The reference model of a seed: its run record, and its losses on each level's noisy windows. */
interface ReferenceOfSeed {
  run: StudyRun;
  refLoss: Map<number, Float32Array>;
}

/** What the study runs, in order, for the plan's counts and the ETA. */
function planSize(settings: StudySettings): number {
  const levelRuns =
    settings.seeds.main.length * 4 + (settings.levels.length - 1) * settings.seeds.otherLevels.length * 4;
  const referenceSeeds = new Set([
    ...settings.seeds.main,
    ...settings.seeds.otherLevels,
    ...settings.seeds.ablations,
  ]);
  return (
    settings.learningRates.length -
    1 +
    levelRuns +
    settings.seeds.ablations.length * ablationConditions(settings).length +
    referenceSeeds.size
  );
}

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  /** The output directory: finished runs are kept in `<out>/runs/` and reference models in `<out>/models/`. */
  out: string;
  /** Backend name, for the record. */
  backend: string;
  /** Progress of the current run. */
  onProgress?: StudyProgress;
  /** Called after each newly finished run with its id (tests stop the study here to simulate a kill). */
  onRunDone?: (id: string) => void | Promise<void>;
  /** Train nothing: report the runs already finished in `out` (a partial study while one runs). @default false */
  finishedOnly?: boolean;
}

/**
 * Runs the study (see docs/study.md): calibrates CLM's learning rate on the validation split at
 * the main level, then per seed trains the reference model (early stopping, best weights), scores
 * every level's noisy corpus with it once, and trains every condition at every level; then the
 * ablations at the main level. Runs already finished in `out` are read back, not repeated.
 */
export async function runStudy(settings: StudySettings, options: RunStudyOptions): Promise<StudyResult> {
  const store = new RunStore(options.out, settings);
  const data = await studyData(settings);
  const commit = currentCommit();
  const total = planSize(settings);
  let position = 0;
  let fresh = { done: 0, seconds: 0 };
  let stage = '';
  const context: StudyContext = {
    settings,
    data,
    commit,
    onProgress: (done, steps) => options.onProgress?.(stage, done, steps),
  };
  /** Reads run `id`, or makes it with `make` and writes it at once. */
  const job = async <T extends object>(
    id: string,
    title: string,
    make: () => Promise<T>,
  ): Promise<T | undefined> => {
    position++;
    const stored = await store.read<T>(id);
    if (stored !== undefined || options.finishedOnly === true) return stored;
    const eta =
      fresh.done === 0
        ? ''
        : ` · ETA ${Math.round(((total - position + 1) * fresh.seconds) / fresh.done / 60)} min`;
    stage = `[${position}/${total}] ${title}${eta}`;
    const started = Date.now();
    const made = await make();
    await store.write(id, made);
    fresh = { done: fresh.done + 1, seconds: fresh.seconds + (Date.now() - started) / 1000 };
    await options.onRunDone?.(id);
    return made;
  };
  const levelName = (index: number) => `${Math.round(100 * data.levels[index]!.emailShare)}% e-mail`;

  // The learning rate: CLM at each candidate on the main level, first main seed; best validation loss.
  const firstSeed = settings.seeds.main[0]!;
  const calibration: StudyRun[] = [];
  for (const learningRate of settings.learningRates) {
    const run = await job(
      runId(CLM, settings.levels[0]!, learningRate, firstSeed),
      `CLM at learning rate ${learningRate}`,
      () => trainRun(CLM, firstSeed, 0, learningRate, undefined, context),
    );
    if (run !== undefined) calibration.push(run);
  }
  const runs: StudyRun[] = [];
  const result = (): Promise<StudyResult> =>
    studyResult(settings, data, options.backend, commit, calibration, runs, total);
  if (calibration.length < settings.learningRates.length) return result();
  const learningRate = calibration.reduce((a, b) =>
    b.finalValidationLoss < a.finalValidationLoss ? b : a,
  ).learningRate;
  position--; // the chosen candidate is CLM's run of the first seed, counted below

  const references = new Map<number, ReferenceOfSeed | undefined>();
  const referenceOf = async (seed: number): Promise<ReferenceOfSeed | undefined> => {
    // A seed's entry is undefined only when, reporting finished runs, its reference is missing.
    if (references.has(seed)) return references.get(seed);
    const id = `reference-lr${learningRate}-s${seed}`;
    const directory = store.modelDirectory(id);
    let model: LlamaModel | undefined;
    const run = await job(id, `reference model, seed ${seed}`, async () => {
      const started = Date.now();
      const trained = await trainReference(seed, learningRate, context);
      await trained.model.save(directory);
      const held = await heldOutLosses(trained.model, context);
      const heldOutLoss = meanOf(held);
      model = trained.model;
      return {
        condition: 'reference',
        seed,
        emailShare: null,
        ratio: 1,
        strategy: 'none',
        scope: 'batch',
        finalHeldOutLoss: heldOutLoss,
        curve: [{ tokens: trained.tokens, heldOutLoss }],
        learningRate,
        tokens: trained.tokens,
        finalValidationLoss: Math.min(...trained.training.validationCurve.map((p) => p.validationLoss)),
        heldOutByKind: byKind(held, data.heldOutKinds),
        emailShareTrained: [],
        referenceTraining: trained.training,
        seconds: (Date.now() - started) / 1000,
        commit,
      } satisfies StudyRun;
    });
    if (run === undefined || options.finishedOnly === true) {
      references.set(seed, run === undefined ? undefined : { run, refLoss: new Map() });
      return references.get(seed);
    }
    model ??= await LlamaModel.load(directory, { inference: true });
    const refLoss = new Map<number, Float32Array>();
    for (const [index, level] of data.levels.entries()) {
      options.onProgress?.(`scoring the ${levelName(index)} corpus with reference ${seed}`, 0, 1);
      refLoss.set(index, await corpusLosses(model, level.windows, settings.batchSize));
    }
    model.dispose();
    const entry = { run, refLoss };
    references.set(seed, entry);
    return entry;
  };

  const train = async (spec: RunSpec, seed: number, levelIndex: number) => {
    const id = runId(spec, data.levels[levelIndex]!.emailShare, learningRate, seed);
    const needsScores = spec.strategy === 'excess';
    const reference = needsScores ? await referenceOf(seed) : undefined;
    const title = `${spec.condition}${spec.strategy === 'none' ? '' : ` ${spec.ratio}`} · ${levelName(levelIndex)} · seed ${seed}`;
    const run = await job(id, title, () =>
      trainRun(spec, seed, levelIndex, learningRate, reference?.refLoss.get(levelIndex), context),
    );
    if (run !== undefined) runs.push(run);
  };
  const levelPass = async (levelIndex: number, seeds: readonly number[]) => {
    for (const seed of seeds) {
      await referenceOf(seed);
      for (const spec of mainConditions(settings)) await train(spec, seed, levelIndex);
    }
  };
  await levelPass(0, settings.seeds.main);
  for (let levelIndex = 1; levelIndex < data.levels.length; levelIndex++)
    await levelPass(levelIndex, settings.seeds.otherLevels);
  for (const seed of settings.seeds.ablations)
    for (const spec of ablationConditions(settings)) await train(spec, seed, 0);
  for (const seed of [...references.keys()].sort((a, b) => a - b)) {
    const reference = references.get(seed);
    if (reference !== undefined) runs.push(reference.run);
  }
  return result();
}

/** study.json's contents from the finished runs. */
async function studyResult(
  settings: StudySettings,
  data: StudyData,
  backend: string,
  commit: string,
  calibration: StudyRun[],
  runs: StudyRun[],
  plannedRuns: number,
): Promise<StudyResult> {
  const { cpu, cores } = runEnvironment(backend);
  return {
    commit,
    runCommits: [...new Set([...calibration, ...runs].map((run) => run.commit))],
    machine: { cpu, cores, backend },
    progress: { plannedRuns, finishedRuns: distinctRuns(calibration, runs, settings).length },
    settings: {
      ...settings,
      corpus: {
        ...settings.corpus,
        reference: data.corpus.reference.length,
        referenceBytes: settings.corpus.reference,
        validationTokens: data.corpus.validation.length,
        heldOutTokens: data.corpus.heldOut.length,
        description: data.corpus.description,
      },
      levels: data.corpus.levels.map((level, index) => ({
        emailShare: level.emailShare,
        noisyTokens: level.tokens.length,
        proseTokens: level.proseTokens,
        trainTokens: data.levels[index]!.steps * settings.batchSize * settings.seqLen,
      })),
    },
    calibration,
    runs,
    summary: summarizeStudy(runs, calibration, settings),
  };
}
