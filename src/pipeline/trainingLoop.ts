// The one training loop: AdamW with warmup-cosine, createTrainStep with global-norm clipping,
// seeded window order, per-batch reference losses. `train`, the demo, the study and the browser
// playground all drive it; each brings its own windows and its own bookkeeping.
import * as tf from '@tensorflow/tfjs';
import type { SelectionOptions } from '../core/selectionSettings.js';
import { windowSampler } from '../data/windows.js';
import { AdamW } from '../model/adamw.js';
import type { LlamaModel } from '../model/llama.js';
import { warmupCosineSchedule } from '../model/schedule.js';
import { createTrainStep, type TrainStepStats } from '../tfjs/trainStep.js';

/** One batch of windows as host arrays: ids and targets `[B·T]`, reference losses `[B·T]` when scored. */
export interface HostBatch {
  /** Input ids `[B·T]`. */
  inputs: Int32Array;
  /** Target ids `[B·T]`; `-100` marks a position that is not trained on. */
  targets: Int32Array;
  /** Reference losses `[B·T]` (selective training). */
  refLoss?: Float32Array;
}

/** Where the loop reads its windows. */
export interface WindowSource {
  /** Number of windows; the loop visits them in a seeded order, epoch after epoch. */
  count: number;
  /** The batch of `windows` (row `b` is window `windows[b]`). */
  read(windows: readonly number[]): Promise<HostBatch> | HostBatch;
}

/** Options of {@link trainingSteps}. */
export interface TrainingLoopOptions {
  /** The model, trained in place. */
  model: LlamaModel;
  /** The training windows. */
  source: WindowSource;
  /** Window length `T`. */
  seqLen: number;
  /** Windows per step `B`. */
  batchSize: number;
  /** Optimizer steps in the whole run (the schedule's length). */
  steps: number;
  /** Peak learning rate: linear warmup over 10% of `steps`, cosine decay to a tenth. */
  learningRate: number;
  /** Seed of the window order. */
  seed: number;
  /** Selection settings: selective training; omit for plain causal LM loss. */
  selective?: SelectionOptions;
  /** Read each step's selection mask to the host (`stats.mask`). @default false */
  keepMask?: boolean;
  /** Steps already taken (a resumed run); the window order continues from there. @default 0 */
  startStep?: number;
  /** The optimizer, when the caller owns it (to save or restore its state). @default a fresh one, disposed at the end */
  optimizer?: AdamW;
}

/** What one step of {@link trainingSteps} did. */
export interface TrainingStep {
  /** The step's statistics; `step` counts from the start of the run (resumed steps included). */
  stats: TrainStepStats;
  /** The windows of the step, in batch order. */
  windows: number[];
  /** The batch the step trained on. */
  batch: HostBatch;
}

/**
 * AdamW with the loop's schedule: linear warmup over 10% of `steps` to `learningRate`, cosine
 * decay to a tenth of it at `steps`.
 *
 * @example
 * ```ts
 * const optimizer = warmupCosineAdamW(3e-3, 200);
 * ```
 */
export function warmupCosineAdamW(learningRate: number, steps: number): AdamW {
  return new AdamW({
    learningRate: warmupCosineSchedule({
      peak: learningRate,
      warmupSteps: Math.max(1, Math.floor(steps / 10)),
      totalSteps: Math.max(2, steps),
    }),
  });
}

/**
 * Trains `model` one step at a time: each iteration reads the next `batchSize` windows of the
 * seeded order, runs one clipped (norm 1) AdamW step with plain or selective loss, and yields its
 * statistics. Stop early by breaking out of the loop; a fresh optimizer is disposed either way.
 *
 * @example
 * ```ts
 * for await (const { stats } of trainingSteps({ model, source, seqLen: 128, batchSize: 8, steps: 100, learningRate: 3e-3, seed: 0 }))
 *   console.log(stats.step, stats.loss);
 * ```
 */
export async function* trainingSteps(options: TrainingLoopOptions): AsyncGenerator<TrainingStep> {
  const { model, source, seqLen: T, batchSize: B } = options;
  const optimizer = options.optimizer ?? warmupCosineAdamW(options.learningRate, options.steps);
  const step = createTrainStep({
    model,
    optimizer,
    clipNorm: 1,
    keepMask: options.keepMask === true,
    ...(options.selective === undefined ? {} : { selective: options.selective }),
  });
  const windowAt = windowSampler(source.count, options.seed);
  try {
    for (let done = options.startStep ?? 0; done < options.steps; done++) {
      const windows = Array.from({ length: B }, (_, row) => windowAt(done * B + row));
      const batch = await source.read(windows);
      const inputs = tf.tensor2d(batch.inputs, [B, T], 'int32');
      const labels = tf.tensor2d(batch.targets, [B, T], 'int32');
      const refLoss = tf.tensor2d(batch.refLoss ?? new Float32Array(B * T), [B, T]);
      let stats: TrainStepStats;
      try {
        stats = await step({ inputs, labels, refLoss });
      } finally {
        tf.dispose([inputs, labels, refLoss]);
      }
      yield { stats: { ...stats, step: done + 1 }, windows, batch };
    }
  } finally {
    if (options.optimizer === undefined) optimizer.dispose();
  }
}
