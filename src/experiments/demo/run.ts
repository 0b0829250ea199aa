// The main job at demo scale: SLM against plain CLM and random selection on real text, with the
// study's fair split (src/experiments/study/corpus.ts). Train a reference model on a sample of the
// target domain, score a noisy corpus (the domain's other prose + raw e-mail) with it, train CLM, SLM
// and random selection from the same initialisation on the same token budget, and measure each on
// held-out prose of the same domain as they train. One seed: `npm run study` is the evidence.
import * as tf from '@tensorflow/tfjs';
import { byteTokenizer } from '../../data/byteTokenizer.js';
import { LlamaModel } from '../../model/llama.js';
import { type InspectedToken, inspectTokens } from '../../pipeline/inspectedTokens.js';
import { corpusLosses, memorySource, TokenWindows } from '../../pipeline/memoryWindows.js';
import { type RunEnvironment, runEnvironment } from '../../pipeline/runEnvironment.js';
import { trainingSteps } from '../../pipeline/trainingLoop.js';
import { buildFairCorpus, type FairCorpusSizes } from '../study/corpus.js';
import { meanOf } from '../study/intervals.js';
import { type CurvePoint, type TokenCategories, tokenCategories, tokensToReach } from './analysis.js';

/** Sizes and budgets of a demo run. */
export interface DemoSettings {
  corpus: FairCorpusSizes;
  referenceSteps: number;
  trainSteps: number;
  evaluations: number;
  batchSize: number;
  seqLen: number;
  learningRate: number;
  ratio: number;
  seed: number;
}

const DEMO_DATA_SEED = 2024;

/** The default run and the quick one (same code path); their wall times are in the README. */
export const DEMO_SETTINGS: Readonly<Record<'default' | 'quick', DemoSettings>> = {
  default: {
    corpus: {
      pieceBytes: 6_000,
      reference: 250_000,
      validation: 0,
      heldOut: 60_000,
      noisy: 250_000,
      emailShare: 0.5,
    },
    referenceSteps: 160,
    trainSteps: 240,
    evaluations: 8,
    batchSize: 8,
    seqLen: 128,
    learningRate: 3e-3,
    ratio: 0.6,
    seed: 1,
  },
  quick: {
    corpus: {
      pieceBytes: 3_000,
      reference: 40_000,
      validation: 0,
      heldOut: 8_000,
      noisy: 30_000,
      emailShare: 0.5,
    },
    referenceSteps: 30,
    trainSteps: 36,
    evaluations: 4,
    batchSize: 8,
    seqLen: 64,
    learningRate: 3e-3,
    ratio: 0.6,
    seed: 1,
  },
};

/** The trained conditions of the demo. */
export const DEMO_CONDITIONS = ['clm', 'slm', 'random'] as const;

/** One of {@link DEMO_CONDITIONS}. */
export type DemoCondition = (typeof DEMO_CONDITIONS)[number];

/** Everything the report shows. */
export interface DemoResult {
  settings: DemoSettings;
  data: Record<string, string | number>;
  /** Held-out loss over training per condition, and the reference model's. */
  curves: Record<DemoCondition, CurvePoint[]> & { reference: number };
  headline: {
    clmFinalLoss: number;
    slmFinalLoss: number;
    randomFinalLoss: number;
    referenceLoss: number;
    slmTokensToMatchClm: number | null;
    fractionOfClmTokens: number | null;
  };
  /** Per evaluation interval of SLM: e-mail share of the tokens it selected and of that interval's batches. */
  selection: { tokens: number; emailShareOfSelected: number; emailShareOfBatches: number }[];
  windows: { window: number; emailShare: number; tokens: InspectedToken[] }[];
  categories: Record<DemoCondition, TokenCategories>;
  seconds: number;
  /** Commit, machine and backend it ran on. */
  environment: RunEnvironment;
}

/** Progress messages of a demo run. */
export type DemoProgress = (stage: string, done: number, total: number) => void;

async function evaluate(
  model: LlamaModel,
  heldOut: TokenWindows,
): Promise<{ loss: number; losses: Float32Array }> {
  const losses = await corpusLosses(model, heldOut);
  return { loss: meanOf(losses), losses };
}

/** Runs the demo and returns its results (the caller writes the report). */
export async function runDemo(
  settings: DemoSettings,
  onProgress: DemoProgress = () => undefined,
): Promise<DemoResult> {
  const started = Date.now();
  const environment = runEnvironment(tf.getBackend());
  const corpus = await buildFairCorpus(settings.corpus, DEMO_DATA_SEED);
  const T = settings.seqLen;
  const config = {
    ...(await import('../../model/config.js')).LLAMA_PRESETS.demo,
    max_position_embeddings: T,
  };
  const reference = new TokenWindows(corpus.reference, T);
  const noisy = new TokenWindows(corpus.noisy, T);
  const heldOut = new TokenWindows(corpus.heldOut, T);
  const common = {
    seqLen: T,
    batchSize: settings.batchSize,
    learningRate: settings.learningRate,
    seed: settings.seed,
  };

  // Step 1: the reference model, on clean prose.
  const referenceModel = LlamaModel.create(config, { seed: settings.seed + 100 });
  for await (const { stats } of trainingSteps({
    ...common,
    model: referenceModel,
    source: memorySource(reference),
    steps: settings.referenceSteps,
  }))
    onProgress('1/3 reference model', stats.step, settings.referenceSteps);
  const referenceLoss = (await evaluate(referenceModel, heldOut)).loss;

  // Step 2: score every noisy token once.
  onProgress('2/3 scoring', 0, 1);
  const refLoss = await corpusLosses(referenceModel, noisy);
  onProgress('2/3 scoring', 1, 1);
  referenceModel.dispose();

  // Step 3: CLM, SLM and random selection from the same initialisation, seed and token budget.
  const tokensPerStep = settings.batchSize * T;
  const evalEvery = Math.max(1, Math.floor(settings.trainSteps / settings.evaluations));
  const runs = { clm: [] as CurvePoint[], slm: [] as CurvePoint[], random: [] as CurvePoint[] };
  const checkpointLosses = {
    clm: [] as Float32Array[],
    slm: [] as Float32Array[],
    random: [] as Float32Array[],
  };
  const selection: DemoResult['selection'] = [];
  let slmModel: LlamaModel | undefined;
  for (const kind of DEMO_CONDITIONS) {
    const model = LlamaModel.create(config, { seed: settings.seed });
    const initial = await evaluate(model, heldOut);
    runs[kind].push({ tokens: 0, loss: initial.loss });
    checkpointLosses[kind].push(initial.losses);
    let selectedEmail = 0;
    let selectedAll = 0;
    let email = 0;
    let all = 0;
    const strategy = kind === 'random' ? ('random' as const) : ('excess' as const);
    for await (const { stats, windows } of trainingSteps({
      ...common,
      model,
      source: memorySource(noisy, kind === 'slm' ? { refLoss } : {}),
      steps: settings.trainSteps,
      ...(kind === 'clm' ? {} : { selective: { ratio: settings.ratio, strategy, seed: settings.seed } }),
      keepMask: kind === 'slm',
    })) {
      onProgress(
        `3/3 ${kind === 'random' ? 'random selection' : kind.toUpperCase()}`,
        stats.step,
        settings.trainSteps,
      );
      if (stats.mask !== undefined) {
        windows.forEach((window, row) => {
          for (let t = 0; t < T; t++) {
            const fromEmail = corpus.noisySource[window * T + t + 1]!;
            const chosen = stats.mask![row * T + t]!;
            selectedEmail += chosen * fromEmail;
            selectedAll += chosen;
            email += fromEmail;
            all++;
          }
        });
      }
      if (stats.step % evalEvery === 0 || stats.step === settings.trainSteps) {
        const result = await evaluate(model, heldOut);
        runs[kind].push({ tokens: stats.step * tokensPerStep, loss: result.loss });
        checkpointLosses[kind].push(result.losses);
        if (kind === 'slm') {
          selection.push({
            tokens: stats.step * tokensPerStep,
            emailShareOfSelected: selectedEmail / selectedAll,
            emailShareOfBatches: email / all,
          });
          [selectedEmail, selectedAll, email, all] = [0, 0, 0, 0];
        }
      }
    }
    if (kind === 'slm') slmModel = model;
    else model.dispose();
  }

  // What SLM selects in a few windows of the noisy corpus, with the final SLM model.
  const tokenizer = byteTokenizer();
  const emailShare = (window: number) =>
    meanOf(corpus.noisySource.subarray(window * T + 1, window * T + T + 1));
  const candidates = Array.from({ length: noisy.count }, (_, w) => w);
  const picks = [
    candidates.find((w) => emailShare(w) === 0),
    candidates.find((w) => emailShare(w) === 1),
    candidates.find((w) => emailShare(w) > 0.2 && emailShare(w) < 0.8),
  ].filter((w): w is number => w !== undefined);
  const windows = [];
  for (const window of picks) {
    const modelLoss = await corpusLosses(
      slmModel!,
      new TokenWindows(noisy.tokens.subarray(window * T, window * T + T + 1), T),
    );
    const { targets } = noisy.batch([window]);
    windows.push({
      window,
      emailShare: emailShare(window),
      tokens: inspectTokens(
        targets,
        modelLoss,
        refLoss.subarray(window * T, window * T + T),
        settings.ratio,
        tokenizer,
      ),
    });
  }
  slmModel!.dispose();

  const final = (kind: DemoCondition) => runs[kind][runs[kind].length - 1]!;
  const clmFinal = final('clm');
  const reach = tokensToReach(runs.slm, clmFinal.loss);
  return {
    settings,
    data: {
      ...corpus.description,
      referenceTokens: corpus.reference.length,
      noisyTokens: corpus.noisy.length,
      heldOutTokens: corpus.heldOut.length,
      trainingTokensPerModel: settings.trainSteps * tokensPerStep,
    },
    curves: { ...runs, reference: referenceLoss },
    headline: {
      clmFinalLoss: clmFinal.loss,
      slmFinalLoss: final('slm').loss,
      randomFinalLoss: final('random').loss,
      referenceLoss,
      slmTokensToMatchClm: reach ?? null,
      fractionOfClmTokens: reach === undefined ? null : reach / clmFinal.tokens,
    },
    selection,
    windows,
    // From the first evaluation on: the drop from random initialisation would put nearly every token in H→L.
    categories: {
      clm: tokenCategories(checkpointLosses.clm.slice(1)),
      slm: tokenCategories(checkpointLosses.slm.slice(1)),
      random: tokenCategories(checkpointLosses.random.slice(1)),
    },
    seconds: (Date.now() - started) / 1000,
    environment,
  };
}
