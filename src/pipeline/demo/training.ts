// The demo's in-memory training and evaluation on token arrays, built from the library's pieces.
import * as tf from '@tensorflow/tfjs';
import { windowSampler } from '../../data/windows.js';
import { AdamW } from '../../model/adamw.js';
import type { LlamaModel } from '../../model/llama.js';
import { warmupCosineSchedule } from '../../model/schedule.js';
import { createTrainStep, type TrainStepStats } from '../../tfjs/trainStep.js';
import { windowLosses } from '../tokenLosses.js';

/** Windows of `T + 1` tokens over an in-memory corpus. */
export class TokenWindows {
  readonly count: number;
  constructor(
    readonly tokens: Int32Array,
    readonly seqLen: number,
  ) {
    this.count = Math.max(0, Math.floor((tokens.length - 1) / seqLen));
  }

  /** Inputs and targets `[B·T]` of `windows`. */
  batch(windows: readonly number[]): { inputs: Int32Array; targets: Int32Array } {
    const T = this.seqLen;
    const inputs = new Int32Array(windows.length * T);
    const targets = new Int32Array(windows.length * T);
    windows.forEach((window, row) => {
      inputs.set(this.tokens.subarray(window * T, window * T + T), row * T);
      targets.set(this.tokens.subarray(window * T + 1, window * T + T + 1), row * T);
    });
    return { inputs, targets };
  }
}

/** Per-position next-token losses of `model` on every window, `[windows·T]`. */
export async function corpusLosses(
  model: LlamaModel,
  windows: TokenWindows,
  batchSize = 8,
): Promise<Float32Array> {
  const T = windows.seqLen;
  const losses = new Float32Array(windows.count * T);
  for (let first = 0; first < windows.count; first += batchSize) {
    const ids = Array.from({ length: Math.min(batchSize, windows.count - first) }, (_, i) => first + i);
    losses.set(await windowLosses(model, { windows: ids, ...windows.batch(ids) }, T), first * T);
  }
  return losses;
}

/** Settings of {@link trainOnWindows}. */
export interface DemoTrainOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Reference losses per position of `windows` (selective training when given). */
  refLoss?: Float32Array;
  ratio?: number;
  /** Called after every step with the stats and the windows of the step (mask when selective). */
  onStep?: (stats: TrainStepStats, windows: number[]) => Promise<void> | void;
}

/** Trains `model` for `steps` steps on shuffled windows; the same seed gives the same batches. */
export async function trainOnWindows(
  model: LlamaModel,
  windows: TokenWindows,
  options: DemoTrainOptions,
): Promise<void> {
  const T = windows.seqLen;
  const optimizer = new AdamW({
    learningRate: warmupCosineSchedule({
      peak: options.learningRate,
      warmupSteps: Math.max(1, Math.floor(options.steps / 10)),
      totalSteps: Math.max(2, options.steps),
    }),
  });
  const step = createTrainStep({
    model,
    optimizer,
    clipNorm: 1,
    keepMask: options.refLoss !== undefined,
    ...(options.refLoss === undefined ? {} : { selective: { ratio: options.ratio ?? 0.6 } }),
  });
  const windowAt = windowSampler(windows.count, options.seed);
  try {
    for (let done = 0; done < options.steps; done++) {
      const ids = Array.from({ length: options.batchSize }, (_, row) =>
        windowAt(done * options.batchSize + row),
      );
      const { inputs, targets } = windows.batch(ids);
      const refLoss = new Float32Array(ids.length * T);
      const reference = options.refLoss;
      if (reference !== undefined) {
        for (const [row, window] of ids.entries())
          refLoss.set(reference.subarray(window * T, window * T + T), row * T);
      }
      const batch = {
        inputs: tf.tensor2d(inputs, [ids.length, T], 'int32'),
        labels: tf.tensor2d(targets, [ids.length, T], 'int32'),
        refLoss: tf.tensor2d(refLoss, [ids.length, T]),
      };
      try {
        const stats = await step(batch);
        await options.onStep?.(stats, ids);
      } finally {
        tf.dispose([batch.inputs, batch.labels, batch.refLoss]);
      }
    }
  } finally {
    optimizer.dispose();
  }
}
