// The main job: SLM against plain CLM on real text. Train a reference model on clean prose, score a
// noisy corpus (prose + raw e-mail) with it, train CLM and SLM from the same initialisation on the
// same token budget, and measure both on held-out prose as they train.
import { topKMask } from '../../core/topKMask.js';
import { byteTokenizer } from '../../data/byteTokenizer.js';
import { LlamaModel } from '../../model/llama.js';
import type { InspectedToken } from '../inspect.js';
import { corpusLosses, memorySource, TokenWindows } from '../memoryWindows.js';
import { trainingSteps } from '../trainingLoop.js';
import { type CurvePoint, type TokenCategories, tokenCategories, tokensToReach } from './analysis.js';
import { buildDemoCorpus, type CorpusSizes } from './corpus.js';

/** Sizes and budgets of a demo run. */
export interface DemoSettings {
  corpus: CorpusSizes;
  referenceSteps: number;
  trainSteps: number;
  evaluations: number;
  batchSize: number;
  seqLen: number;
  learningRate: number;
  ratio: number;
  seed: number;
}

/** The default run (about 8 minutes on 2 cores) and the quick one (about a minute, same code path). */
export const DEMO_SETTINGS: Readonly<Record<'default' | 'quick', DemoSettings>> = {
  default: {
    corpus: { reference: 400_000, noisyProse: 220_000, noisyEmail: 220_000, heldOut: 40_000 },
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
    corpus: { reference: 60_000, noisyProse: 30_000, noisyEmail: 30_000, heldOut: 8_000 },
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

/** Everything the report shows. */
export interface DemoResult {
  settings: DemoSettings;
  data: Record<string, string | number>;
  curves: { clm: CurvePoint[]; slm: CurvePoint[]; reference: number };
  headline: {
    clmFinalLoss: number;
    slmFinalLoss: number;
    slmTokensToMatchClm: number | null;
    fractionOfClmTokens: number | null;
  };
  selection: { tokens: number; emailShareOfSelected: number; emailShareOfCorpus: number }[];
  windows: { window: number; emailShare: number; tokens: InspectedToken[] }[];
  categories: { clm: TokenCategories; slm: TokenCategories };
  seconds: number;
}

/** Progress messages of a demo run. */
export type DemoProgress = (stage: string, done: number, total: number) => void;

async function evaluate(
  model: LlamaModel,
  heldOut: TokenWindows,
): Promise<{ loss: number; losses: Float32Array }> {
  const losses = await corpusLosses(model, heldOut);
  return { loss: losses.reduce((a, b) => a + b, 0) / losses.length, losses };
}

/** Runs the demo and returns its results (the caller writes the report). */
export async function runDemo(
  settings: DemoSettings,
  onProgress: DemoProgress = () => undefined,
): Promise<DemoResult> {
  const started = Date.now();
  const corpus = await buildDemoCorpus(settings.corpus);
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

  // Step 3: CLM and SLM from the same initialisation, seed and token budget.
  const tokensPerStep = settings.batchSize * T;
  const evalEvery = Math.max(1, Math.floor(settings.trainSteps / settings.evaluations));
  const runs = { clm: [] as CurvePoint[], slm: [] as CurvePoint[] };
  const checkpointLosses = { clm: [] as Float32Array[], slm: [] as Float32Array[] };
  const selection: DemoResult['selection'] = [];
  const finalModels: Partial<Record<'clm' | 'slm', LlamaModel>> = {};
  for (const kind of ['clm', 'slm'] as const) {
    const model = LlamaModel.create(config, { seed: settings.seed });
    const initial = await evaluate(model, heldOut);
    runs[kind].push({ tokens: 0, loss: initial.loss });
    checkpointLosses[kind].push(initial.losses);
    let selectedEmail = 0;
    let selectedAll = 0;
    let email = 0;
    let all = 0;
    for await (const { stats, windows } of trainingSteps({
      ...common,
      model,
      source: memorySource(noisy, kind === 'slm' ? { refLoss } : {}),
      steps: settings.trainSteps,
      ...(kind === 'slm' ? { selective: { ratio: settings.ratio }, keepMask: true } : {}),
    })) {
      onProgress(`3/3 ${kind.toUpperCase()}`, stats.step, settings.trainSteps);
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
            emailShareOfCorpus: email / all,
          });
          [selectedEmail, selectedAll, email, all] = [0, 0, 0, 0];
        }
      }
    }
    finalModels[kind] = model;
  }

  // What SLM selects in a few windows of the noisy corpus, with the final SLM model.
  const tokenizer = byteTokenizer();
  const emailShare = (window: number) =>
    corpus.noisySource.subarray(window * T + 1, window * T + T + 1).reduce((a, b) => a + b, 0) / T;
  const candidates = Array.from({ length: noisy.count }, (_, w) => w);
  const picks = [
    candidates.find((w) => emailShare(w) === 0),
    candidates.find((w) => emailShare(w) === 1),
    candidates.find((w) => emailShare(w) > 0.2 && emailShare(w) < 0.8),
  ].filter((w): w is number => w !== undefined);
  const windows = [];
  for (const window of picks) {
    const modelLoss = await corpusLosses(
      finalModels.slm!,
      new TokenWindows(noisy.tokens.subarray(window * T, window * T + T + 1), T),
    );
    const excess = modelLoss.map((loss, t) => loss - refLoss[window * T + t]!);
    const mask = topKMask(excess, { ratio: settings.ratio });
    const { targets } = noisy.batch([window]);
    windows.push({
      window,
      emailShare: emailShare(window),
      tokens: Array.from(targets, (id, t) => ({
        id,
        text: tokenizer.decode([id]),
        modelLoss: modelLoss[t]!,
        refLoss: refLoss[window * T + t]!,
        excess: excess[t]!,
        selected: mask[t] === 1,
      })),
    });
  }
  finalModels.clm!.dispose();
  finalModels.slm!.dispose();

  const clmFinal = runs.clm[runs.clm.length - 1]!;
  const slmFinal = runs.slm[runs.slm.length - 1]!;
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
    curves: { clm: runs.clm, slm: runs.slm, reference: referenceLoss },
    headline: {
      clmFinalLoss: clmFinal.loss,
      slmFinalLoss: slmFinal.loss,
      slmTokensToMatchClm: reach ?? null,
      fractionOfClmTokens: reach === undefined ? null : reach / clmFinal.tokens,
    },
    selection,
    windows,
    // From the first evaluation on: the drop from random initialisation would put nearly every token in H→L.
    categories: {
      clm: tokenCategories(checkpointLosses.clm.slice(1)),
      slm: tokenCategories(checkpointLosses.slm.slice(1)),
    },
    seconds: (Date.now() - started) / 1000,
  };
}
