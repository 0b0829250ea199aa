// Steps 1 and 3: train a model on windows of a token file, with plain causal LM loss (reference
// model) or selective loss against reference scores; atomic checkpoints; exact resume.
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SLMError } from '../core/errors.js';
import type { SelectionOptions } from '../core/selectionSettings.js';
import { ScoreFile } from '../data/scoreFile.js';
import type { TokenFile } from '../data/tokenFile.js';
import { readWindows, windowCount } from '../data/windows.js';
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';
import { readJsonBounded } from '../io/boundedRead.js';
import type { AdamW } from '../model/adamw.js';
import type { LlamaConfig, LlamaPresetName } from '../model/config.js';
import { LlamaModel } from '../model/llama.js';
import type { NormalSampler } from '../model/normalStreams.js';
import type { TrainStepStats } from '../tfjs/trainStep.js';
import { openTokens } from './openTokens.js';
import { restoreOptimizerState, writeOptimizerState } from './optimizerState.js';
import { firstExisting, lockOutput } from './outputGuard.js';
import { type HostBatch, trainingSteps, type WindowSource, warmupCosineAdamW } from './trainingLoop.js';

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** The token file to train on. */
  data: string;
  /** Output directory: the final model (Hugging Face layout), checkpoints, metrics.jsonl. */
  out: string;
  /** Model for a new run. @default 'demo' */
  config?: LlamaPresetName | LlamaConfig;
  /** Optimizer steps in total (a resumed run continues up to this). */
  steps: number;
  /** Windows per step. @default 8 */
  batchSize?: number;
  /** Window length `T`. @default the model's max_position_embeddings */
  seqLen?: number;
  /** Peak learning rate (linear warmup over 10% of steps, cosine decay to a tenth). @default 3e-3 */
  learningRate?: number;
  /** Seed of the initial weights and of the window order. @default 0 */
  seed?: number;
  /** Reference scores of `data`: train selectively (step 3). Omit for plain causal LM (step 1). */
  scores?: string;
  /** Start from this model directory (a Hugging Face checkpoint, e.g. TinyLlama-1.1B) instead of random weights; `config` must be omitted. */
  init?: string;
  /** Recompute each layer's activations in the backward pass (less memory, one more forward per step; see `LlamaModel.recomputeActivations`). @default false */
  recomputeActivations?: boolean;
  /** How a new model's random weights are drawn (see `CreateOptions.sampler`); not with `init`. @default 'tfjs' */
  sampler?: NormalSampler;
  /** Selection settings when `scores` is given. @default { ratio: 0.6 } */
  selection?: SelectionOptions;
  /** Steps between checkpoints. @default 50 */
  checkpointEvery?: number;
  /** Continue from the last checkpoint in `out`. @default false */
  resume?: boolean;
  /** Start over in an `out` that holds an earlier run, removing its checkpoints, metrics and model. @default false */
  force?: boolean;
  /** Called after every step. */
  onStep?: (stats: TrainStepStats) => void;
  /** Stops after the current step, with a checkpoint. */
  signal?: AbortSignal;
}

/** What {@link trainModel} did. */
export interface TrainResult {
  /** Steps completed. */
  step: number;
  /** Whether every requested step ran (false when stopped by the signal). */
  complete: boolean;
  /** Statistics of the last step. */
  last: TrainStepStats | undefined;
}

interface TrainState {
  step: number;
  checkpoint: string;
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  await writeFileAtomic(path, (handle) => writeAll(handle, bytes, 0));
}

/** Checks that reference scores were computed on this token file with this window length. */
async function openScores(path: string, tokens: TokenFile, seqLen: number): Promise<ScoreFile> {
  const scores = await ScoreFile.open(path);
  await scores.verify().catch(async (error: unknown) => {
    await scores.close();
    throw error;
  });
  const expected: Record<string, number> = {
    tokenFileCrc: tokens.info.payloadCrc,
    tokenCount: tokens.info.tokenCount,
    seqLen,
    windowCount: windowCount(tokens.info.tokenCount, seqLen),
    firstWindow: 0,
    partWindows: windowCount(tokens.info.tokenCount, seqLen),
  };
  for (const [field, value] of Object.entries(expected)) {
    const found = scores.info[field as keyof typeof scores.info];
    if (found !== value) {
      await scores.close();
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${path} does not match ${tokens.path}: its ${field} is ${found}, expected ${value}` +
          (field === 'seqLen'
            ? ' (score and train with the same window length)'
            : field.startsWith('part') || field === 'firstWindow'
              ? ' (merge the shards first)'
              : ' (scores of another corpus?)'),
      );
    }
  }
  return scores;
}

/** The optimizer's state in a checkpoint directory, beside the model. */
const OPTIMIZER_FILE = 'optimizer.safetensors';

async function saveCheckpoint(
  out: string,
  step: number,
  model: LlamaModel,
  optimizer: AdamW,
  previous: string | undefined,
): Promise<string> {
  const directory = join(out, 'checkpoints', `step-${step}`);
  await model.save(directory);
  await writeOptimizerState(join(directory, OPTIMIZER_FILE), optimizer);
  await writeJsonAtomic(join(out, 'train-state.json'), { step, checkpoint: directory } satisfies TrainState);
  if (previous !== undefined && previous !== directory) await rm(previous, { recursive: true, force: true });
  return directory;
}

/**
 * Keeps the metrics of steps up to `step` (a resumed run rewrites what came after its checkpoint).
 * A last line cut short by a crash is dropped; a corrupt line before it is an error.
 */
async function trimMetrics(path: string, step: number): Promise<void> {
  const lines = (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
  const kept = lines.filter((line, index) => {
    try {
      return (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      if (index === lines.length - 1) return false;
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${path}:${index + 1} is not valid JSON; remove the file to resume.`,
      );
    }
  });
  await writeFile(path, kept.map((line) => `${line}\n`).join(''));
}

/** The state of an earlier run in `out`, or `undefined` when there is none. */
async function readTrainState(path: string): Promise<TrainState | undefined> {
  if ((await firstExisting([path])) === undefined) return undefined;
  const state = (await readJsonBounded(path, 1 << 16, 'BAD_CHECKPOINT')) as Partial<TrainState> | null;
  if (!(Number.isInteger(state?.step) && state!.step! >= 0 && typeof state?.checkpoint === 'string'))
    throw new SLMError(
      'BAD_CHECKPOINT',
      `${path} does not record a step and a checkpoint; remove it to start over.`,
    );
  return state as TrainState;
}

/** Refuses to overwrite an earlier run in `out` unless resuming, or clears it with `force`. */
async function claimTrainOutput(options: TrainOptions): Promise<void> {
  if (options.resume === true) return;
  const earlier = ['train-state.json', 'metrics.jsonl', 'model.safetensors', 'checkpoints'].map((name) =>
    join(options.out, name),
  );
  const found = await firstExisting(earlier);
  if (found === undefined) return;
  if (options.force !== true) {
    throw new SLMError(
      'OUTPUT_EXISTS',
      `train: ${options.out} already holds a run (${basename(found)}); pass --resume to continue it or --force to start over.`,
    );
  }
  for (const path of [...earlier, join(options.out, 'config.json')])
    await rm(path, { recursive: true, force: true });
}

/**
 * Trains a Llama model on windows of a token file: plain causal LM (the reference model, step 1)
 * or, with `scores`, selective language modeling (step 3). Checkpoints are written atomically every
 * `checkpointEvery` steps; `resume` continues from the last one with the same batches, so nothing
 * is lost or repeated. The final model is saved to `out` in Hugging Face layout.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` when scores do not match the corpus (naming the field)
 *   or a file is corrupt; `OUTPUT_EXISTS` when `out` holds an earlier run and neither `resume` nor
 *   `force` is set; `OUTPUT_LOCKED` while another run uses `out`
 * @example
 * ```ts
 * await trainModel({ data: 'clean.tok', out: 'ref', steps: 200 });
 * await trainModel({ data: 'noisy.tok', scores: 'noisy.scores', out: 'slm', steps: 200 });
 * ```
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  await mkdir(options.out, { recursive: true });
  const lock = await lockOutput(options.out, 'train');
  try {
    await claimTrainOutput(options);
    return await train(options);
  } finally {
    await lock.release();
  }
}

async function train(options: TrainOptions): Promise<TrainResult> {
  const statePath = join(options.out, 'train-state.json');
  const metricsPath = join(options.out, 'metrics.jsonl');
  const resumed = options.resume === true ? await readTrainState(statePath) : undefined;
  if (options.init !== undefined && (options.config !== undefined || options.sampler !== undefined))
    throw new SLMError(
      'BAD_OPTION',
      'trainModel: give `init` (a model to start from) or `config` and `sampler` (random weights), not both',
    );
  const model =
    resumed !== undefined
      ? await LlamaModel.load(resumed.checkpoint)
      : options.init !== undefined
        ? await LlamaModel.load(options.init)
        : LlamaModel.create(options.config ?? 'demo', {
            seed: options.seed ?? 0,
            ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
          });
  model.recomputeActivations = options.recomputeActivations === true;
  const tokens = await openTokens(options.data, model.config.vocab_size).catch((error: unknown) => {
    model.dispose();
    throw error;
  });
  const seqLen = options.seqLen ?? model.config.max_position_embeddings;
  const scores =
    options.scores === undefined
      ? undefined
      : await openScores(options.scores, tokens, seqLen).catch(async (error: unknown) => {
          await tokens.close();
          model.dispose();
          throw error;
        });
  const batchSize = options.batchSize ?? 8;
  const windows = windowCount(tokens.info.tokenCount, seqLen);
  const optimizer = warmupCosineAdamW(options.learningRate ?? 3e-3, options.steps);
  let checkpoint = resumed?.checkpoint;
  try {
    if (windows < batchSize)
      throw new SLMError(
        'BAD_OPTION',
        `train: ${tokens.path} has ${windows} windows of ${seqLen}; a batch needs ${batchSize}.`,
      );
    if (resumed !== undefined)
      await restoreOptimizerState(join(resumed.checkpoint, OPTIMIZER_FILE), optimizer);
    else await rm(metricsPath, { force: true });
    if (resumed !== undefined) await trimMetrics(metricsPath, resumed.step);
    const source: WindowSource = {
      count: windows,
      async read(ids) {
        const batch: HostBatch = await readWindows(tokens, ids, seqLen);
        if (scores !== undefined) {
          batch.refLoss = new Float32Array(batchSize * seqLen);
          for (const [row, window] of ids.entries())
            batch.refLoss.set(await scores.read(window, 1), row * seqLen);
        }
        return batch;
      },
    };
    const stopped = () => options.signal?.aborted === true;
    let done = resumed?.step ?? 0;
    let last: TrainStepStats | undefined;
    if (!stopped()) {
      for await (const { stats } of trainingSteps({
        model,
        source,
        seqLen,
        batchSize,
        steps: options.steps,
        learningRate: options.learningRate ?? 3e-3,
        seed: options.seed ?? 0,
        startStep: done,
        optimizer,
        ...(scores === undefined ? {} : { selective: options.selection ?? {} }),
      })) {
        last = stats;
        done = stats.step;
        await appendFile(metricsPath, `${JSON.stringify(last)}\n`);
        options.onStep?.(last);
        if (done % (options.checkpointEvery ?? 50) === 0 || done === options.steps || stopped()) {
          checkpoint = await saveCheckpoint(options.out, done, model, optimizer, checkpoint);
        }
        if (stopped()) break;
      }
    }
    if (done === options.steps) await model.save(options.out);
    return { step: done, complete: done === options.steps, last };
  } finally {
    await tokens.close();
    await scores?.close();
    optimizer.dispose();
    model.dispose();
  }
}
