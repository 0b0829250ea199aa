// One optimizer step with selective (or plain) language-modeling loss, optional gradient
// accumulation with exact whole-batch selection, global-norm clipping, and plain-number stats.
import * as tf from '@tensorflow/tfjs';
import { checkNumberOption, checkOneOf } from '../core/check.js';
import { SLMError } from '../core/errors.js';
import { DEFAULT_IGNORE_INDEX } from '../core/labels.js';
import { strategyNeedsReference } from '../core/selectionScores.js';
import type { ResolvedSelection, SelectionOptions } from '../core/selectionSettings.js';
import { quietWasmRethrow } from './backend.js';
import { clipScale, globalNorm, scaleGradients, sumScalars } from './gradientNorm.js';
import { indexLabels } from './labelIndex.js';
import { interpretStats, type SelectionStats } from './selectionStats.js';
import {
  packStats,
  resolveTensorSelection,
  selectionGroupSize,
  selectTokens,
  selectWithoutGradient,
  type TokenSelection,
} from './selectiveLoss.js';
import { checkLabelTensor, checkShape, checkTensor } from './tensorChecks.js';
import { tokenLossRows } from './tokenLoss.js';
import { registerWasmKernels } from './wasmKernels.js';

/** A model the training step can drive. */
export interface TrainableModel {
  /** Logits `[..., V]` for inputs (e.g. `[B, T]` ids → `[B, T, V]`). */
  forward(inputs: tf.Tensor): tf.Tensor;
  /** The variables to train. */
  trainableVariables(): tf.Variable[];
}

/** One batch: inputs, targets and (for selective training) reference losses. */
export interface TrainBatch {
  /** Model inputs, first axis the batch `B` (e.g. ids `[B, T]`). */
  inputs: tf.Tensor;
  /** Target ids `[B, T]` int32; `ignoreIndex` marks padding. */
  labels: tf.Tensor;
  /** Reference per-token losses `[B, T]`; required by selective strategies that read it. */
  refLoss?: tf.Tensor;
}

/** Options of {@link createTrainStep}. */
export interface TrainStepOptions {
  /** The model; or give `params` and `forward`. */
  model?: TrainableModel;
  /** Variables to train (with `forward`). */
  params?: tf.Variable[];
  /** Logits `[..., V]` from `batch.inputs` (with `params`). */
  forward?: (inputs: tf.Tensor) => tf.Tensor;
  /** Any tfjs optimizer, e.g. `tf.train.adam(3e-4)`. */
  optimizer: tf.Optimizer;
  /** Selective training settings; omit (or `false`) for plain causal LM loss. */
  selective?: SelectionOptions | false;
  /** Micro-batches per step: the batch is split along its first axis. @default 1 */
  accumulate?: number;
  /**
   * `'exact'`: one forward pass over all micro-batches collects token losses, one selection over
   * the whole batch (the paper's rule), then forward+backward per micro-batch (2× the forward
   * cost). `'one-pass'`: each micro-batch selects its own top k% and the losses are averaged (one
   * forward per micro-batch; the selection then depends on how the batch was split). @default 'exact'
   */
  selection?: 'exact' | 'one-pass';
  /** Clip gradients to this global L2 norm. @default no clipping */
  clipNorm?: number;
  /** Label value that marks padding. @default -100 */
  ignoreIndex?: number;
  /** Also read the selection mask to the host each step (`stats.mask`). @default false */
  keepMask?: boolean;
}

/** Plain-number statistics of one training step. */
export interface TrainStepStats extends SelectionStats {
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** Steps taken so far, this one included. */
  step: number;
  /** The selection mask `[B·T]` (1 = trained on), when `keepMask` is set. */
  mask?: Uint8Array;
}

/** An optimizer that applies scaled gradients and frees each once applied (rho-slm/model's `AdamW`). */
interface ReleasingOptimizer extends tf.Optimizer {
  applyScaledGradients(gradients: tf.NamedTensorMap, scale: number): void;
}

function releasesGradients(optimizer: tf.Optimizer): optimizer is ReleasingOptimizer {
  return typeof (optimizer as Partial<ReleasingOptimizer>).applyScaledGradients === 'function';
}

/** Runs one optimizer step on a batch and resolves to its statistics. */
export type TrainStep = (batch: TrainBatch) => Promise<TrainStepStats>;

/** One micro-batch: labels and reference losses `[b, T]`. */
interface MicroBatch {
  inputs: tf.Tensor;
  labels: tf.Tensor;
  refLoss: tf.Tensor;
}

/** The validated, defaulted configuration of a training step. */
interface StepPlan {
  forward: (inputs: tf.Tensor) => tf.Tensor;
  variables: tf.Variable[];
  optimizer: tf.Optimizer;
  selection: ResolvedSelection | undefined;
  ignoreIndex: number;
  accumulate: number;
  exact: boolean;
  clipNorm: number | undefined;
  keepMask: boolean;
}

/** Per-token pieces of one forward pass, flattened to `[n]`. */
type ForwardTokens = {
  modelLoss: tf.Tensor1D;
  refLoss: tf.Tensor1D;
  valid: tf.Tensor1D;
  inRange: tf.Tensor1D;
};

const FN = 'createTrainStep';

function forwardTokens(plan: StepPlan, micro: MicroBatch): ForwardTokens {
  const logits = plan.forward(micro.inputs); // [b, T, V] (any [..., V])
  const tokenCount = micro.labels.size; // n = b·T
  const vocab = logits.shape[logits.rank - 1]!;
  if (logits.size !== tokenCount * vocab) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `'${FN}': forward returned logits of shape [${logits.shape}] for labels of shape [${micro.labels.shape}]; expected [..., V] with one row per label.`,
    );
  }
  const index = indexLabels(tf.reshape(micro.labels, [tokenCount]) as tf.Tensor1D, vocab, plan.ignoreIndex);
  return {
    modelLoss: tokenLossRows(tf.reshape(logits, [tokenCount, vocab]) as tf.Tensor2D, index), // [n]
    refLoss: tf.reshape(micro.refLoss, [tokenCount]) as tf.Tensor1D, // [n]
    valid: index.valid,
    inRange: index.inRange,
  };
}

function keepTokens(tokens: ForwardTokens): ForwardTokens {
  return {
    modelLoss: tf.keep(tokens.modelLoss),
    refLoss: tf.keep(tokens.refLoss),
    valid: tf.keep(tokens.valid),
    inRange: tf.keep(tokens.inRange),
  };
}

/** Plain causal LM: every valid token, weight 1/total. */
function plainSelection(valid: tf.Tensor1D): TokenSelection {
  return {
    weights: tf.div(valid, tf.maximum(tf.sum(valid), 1)) as tf.Tensor1D,
    mask: tf.clone(valid),
    threshold: tf.scalar(Number.NEGATIVE_INFINITY),
  };
}

function choose(
  plan: StepPlan,
  tokens: ForwardTokens,
  labelShape: number[],
  seed: number,
  inGradient: boolean,
): TokenSelection {
  if (plan.selection === undefined) return plainSelection(tokens.valid);
  const settings = { ...plan.selection, seed };
  const groupSize = selectionGroupSize(settings, labelShape, FN);
  const selectFn = inGradient ? selectWithoutGradient : selectTokens;
  return selectFn(tokens.modelLoss, tokens.refLoss, tokens.valid, settings, groupSize);
}

function weightedLoss(modelLoss: tf.Tensor1D, chosen: Pick<TokenSelection, 'mask' | 'weights'>): tf.Scalar {
  const finiteWhereSelected = tf.where(tf.cast(chosen.mask, 'bool'), modelLoss, tf.zerosLike(modelLoss)); // [n]
  return tf.sum(tf.mul(finiteWhereSelected, chosen.weights)) as tf.Scalar; // Σ w_i·L_i, []
}

/** Adds `grads · scale` into `total` (disposing what it replaces). */
function accumulateGradients(
  total: tf.NamedTensorMap | undefined,
  grads: tf.NamedTensorMap,
  scale: number,
): tf.NamedTensorMap {
  const next = tf.tidy(() =>
    Object.fromEntries(
      Object.entries(grads).map(([name, grad]) => {
        const scaled = scale === 1 ? grad : tf.mul(grad, scale);
        return [name, total === undefined ? tf.clone(scaled) : tf.add(total[name]!, scaled)];
      }),
    ),
  );
  tf.dispose(grads);
  if (total !== undefined) tf.dispose(total);
  return next;
}

/** What a step computed before the host looks at it. */
interface StepResult {
  grads: tf.NamedTensorMap;
  tokens: ForwardTokens[];
  masks: tf.Tensor1D[];
  thresholds: tf.Scalar[];
  losses: tf.Scalar[];
}

/** Accumulate = 1, or one-pass: each micro-batch selects inside its own gradient closure. */
function perMicroBatchStep(plan: StepPlan, micros: MicroBatch[], seed: number): StepResult {
  const result: StepResult = { grads: {}, tokens: [], masks: [], thresholds: [], losses: [] };
  let total: tf.NamedTensorMap | undefined;
  for (const micro of micros) {
    const { value, grads } = plan.optimizer.computeGradients(() => {
      const tokens = forwardTokens(plan, micro);
      const chosen = choose(plan, tokens, micro.labels.shape, seed, true);
      result.tokens.push(keepTokens(tokens));
      result.masks.push(tf.keep(chosen.mask));
      result.thresholds.push(tf.keep(chosen.threshold));
      return weightedLoss(tokens.modelLoss, chosen);
    }, plan.variables);
    result.losses.push(value);
    total = accumulateGradients(total, grads, 1 / micros.length);
  }
  result.grads = total!;
  return result;
}

/** Exact accumulation: token losses of every micro-batch first, one selection, then gradients. */
function exactAccumulationStep(plan: StepPlan, micros: MicroBatch[], seed: number): StepResult {
  const tokens = micros.map((micro) => tf.tidy(() => keepTokens(forwardTokens(plan, micro))));
  const wholeShape = [
    micros.reduce((rows, m) => rows + m.labels.shape[0]!, 0),
    ...micros[0]!.labels.shape.slice(1),
  ];
  const chosen = tf.tidy(() => {
    const whole: ForwardTokens = {
      modelLoss: tf.concat(tokens.map((t) => t.modelLoss)),
      refLoss: tf.concat(tokens.map((t) => t.refLoss)),
      valid: tf.concat(tokens.map((t) => t.valid)),
      inRange: tf.concat(tokens.map((t) => t.inRange)),
    };
    return choose(plan, whole, wholeShape, seed, false);
  });
  const sizes = micros.map((m) => m.labels.size);
  const weights = tf.split(chosen.weights, sizes) as tf.Tensor1D[];
  const masks = tf.split(chosen.mask, sizes) as tf.Tensor1D[];
  const result: StepResult = { grads: {}, tokens, masks, thresholds: [chosen.threshold], losses: [] };
  let total: tf.NamedTensorMap | undefined;
  micros.forEach((micro, m) => {
    const { value, grads } = plan.optimizer.computeGradients(
      () => weightedLoss(forwardTokens(plan, micro).modelLoss, { weights: weights[m]!, mask: masks[m]! }),
      plan.variables,
    );
    result.losses.push(value);
    total = accumulateGradients(total, grads, 1);
  });
  tf.dispose([chosen.weights, chosen.mask, ...weights]);
  result.grads = total!;
  return result;
}

/** Stats `[9]` (STATS_FIELDS, then the global norm of the gradients) and the selection mask. */
function finishStep(plan: StepPlan, result: StepResult): { stats: tf.Tensor1D; mask: tf.Tensor1D } {
  return tf.tidy(() => {
    const cat = (pick: (t: ForwardTokens) => tf.Tensor1D) =>
      tf.concat(result.tokens.map(pick)) as tf.Tensor1D;
    const loss = (
      plan.exact ? sumScalars(result.losses) : tf.div(sumScalars(result.losses), result.losses.length)
    ) as tf.Scalar;
    const selection = {
      mask: tf.concat(result.masks) as tf.Tensor1D,
      threshold: tf.min(tf.stack(result.thresholds)) as tf.Scalar,
    };
    const stats = packStats(
      cat((t) => t.modelLoss),
      cat((t) => t.refLoss),
      cat((t) => t.valid),
      cat((t) => t.inRange),
      selection,
      loss,
    );
    const gradNorm = globalNorm(Object.values(result.grads)); // ‖g‖₂, []
    return { stats: tf.concat([stats, tf.reshape(gradNorm, [1])]) as tf.Tensor1D, mask: selection.mask };
  });
}

function disposeResult(result: StepResult): void {
  tf.dispose([
    result.grads,
    ...result.tokens.flatMap((t) => [t.modelLoss, t.refLoss, t.valid, t.inRange]),
    ...result.masks,
    ...result.thresholds,
    ...result.losses,
  ]);
}

function splitBatch(batch: TrainBatch, plan: StepPlan): MicroBatch[] {
  return tf.tidy(() => {
    const parts = (t: tf.Tensor) => (plan.accumulate === 1 ? [tf.clone(t)] : tf.split(t, plan.accumulate, 0));
    const inputs = parts(batch.inputs);
    const labels = parts(tf.cast(batch.labels, 'int32'));
    const refLoss = parts(batch.refLoss ?? tf.zeros(batch.labels.shape));
    return inputs.map((part, m) => ({ inputs: part, labels: labels[m]!, refLoss: refLoss[m]! }));
  });
}

function checkBatch(batch: TrainBatch, plan: StepPlan): void {
  const fn = 'trainStep';
  checkTensor(batch?.inputs, fn, 'batch.inputs');
  checkLabelTensor(batch.labels, fn, 'batch.labels');
  const rows = batch.labels.shape[0] ?? 0;
  if (batch.labels.rank < 1 || batch.inputs.shape[0] !== rows) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `Argument 'batch.labels' passed to '${fn}' has shape [${batch.labels.shape}], expected [B, ...] with B = ${batch.inputs.shape[0]} rows like 'batch.inputs'.`,
    );
  }
  if (batch.refLoss !== undefined) {
    checkTensor(batch.refLoss, fn, 'batch.refLoss');
    checkShape(batch.refLoss.shape, batch.labels.shape, fn, 'batch.refLoss', "same shape as 'batch.labels'");
  } else if (plan.selection !== undefined && strategyNeedsReference(plan.selection.strategy)) {
    throw new SLMError(
      'BAD_OPTION',
      `Argument 'batch.refLoss' passed to '${fn}' is missing; it is required by strategy '${plan.selection.strategy}'.`,
    );
  }
  if (rows % plan.accumulate !== 0) {
    throw new SLMError(
      'SHAPE_MISMATCH',
      `'${fn}': the batch of ${rows} rows does not split into accumulate = ${plan.accumulate} equal micro-batches.`,
    );
  }
}

function planStep(options: TrainStepOptions): StepPlan {
  const model = options?.model;
  const forward = model !== undefined ? (inputs: tf.Tensor) => model.forward(inputs) : options?.forward;
  const variables = model !== undefined ? model.trainableVariables() : options?.params;
  if (typeof forward !== 'function' || !Array.isArray(variables)) {
    throw new SLMError(
      'BAD_OPTION',
      `'${FN}' needs either \`model\` (with forward and trainableVariables) or both \`forward\` and \`params\`.`,
    );
  }
  if (!(options.optimizer instanceof tf.Optimizer)) {
    throw new SLMError(
      'BAD_OPTION',
      `Option \`optimizer\` passed to '${FN}' must be a tf.Optimizer, e.g. tf.train.adam(3e-4).`,
    );
  }
  const accumulate = options.accumulate ?? 1;
  checkNumberOption(accumulate, (n) => Number.isInteger(n) && n >= 1, FN, 'accumulate', 'an integer ≥ 1');
  const mode = options.selection ?? 'exact';
  checkOneOf(mode, ['exact', 'one-pass'], FN, 'selection');
  if (options.clipNorm !== undefined) {
    checkNumberOption(
      options.clipNorm,
      (c) => c > 0 && Number.isFinite(c),
      FN,
      'clipNorm',
      'a finite number > 0',
    );
  }
  const selective = options.selective;
  return {
    forward,
    variables,
    optimizer: options.optimizer,
    selection:
      selective === undefined || selective === false
        ? undefined
        : resolveTensorSelection(selective, true, FN),
    ignoreIndex: options.ignoreIndex ?? DEFAULT_IGNORE_INDEX,
    accumulate,
    exact: mode === 'exact' && accumulate > 1,
    clipNorm: options.clipNorm,
    keepMask: options.keepMask === true,
  };
}

/**
 * Creates a training step: `await step(batch)` runs forward, selective (or plain) loss, backward
 * and one optimizer update, and resolves to plain-number statistics. Selection runs on the device;
 * the host reads one small stats tensor per step, before the update, so bad input (labels out of
 * range, NaN losses) throws an `SLMError` and leaves the weights untouched. Tensor count stays
 * flat from step to step.
 *
 * With `accumulate > 1` the batch is split along its first axis; `selection: 'exact'` selects the
 * top k% of the whole batch (the paper's rule, identical masks to an unsplit batch), `'one-pass'`
 * of each micro-batch.
 *
 * Any `tf.LayersModel` works as `forward`: on wasm the kernels its gradients need are registered
 * first (see {@link registerWasmKernels}).
 *
 * Shapes: `batch.inputs` `[B, ...]`, `batch.labels` and `batch.refLoss` `[B, T]`, logits `[B, T, V]`.
 *
 * @param options - see {@link TrainStepOptions}
 * @returns the step function
 * @throws {@link SLMError} `BAD_OPTION`, `BAD_RATIO` when creating; the step throws `BAD_TYPE`
 *   (also for labels that are not an int32 tensor), `SHAPE_MISMATCH`, `BAD_OPTION`,
 *   `LABEL_OUT_OF_RANGE`, `NON_FINITE`
 * @example
 * ```ts
 * const step = createTrainStep({ params, forward, optimizer: tf.train.adam(1e-3), selective: { ratio: 0.6 } });
 * const { loss, selectedFraction, gradNorm } = await step({ inputs, labels, refLoss });
 * ```
 */
export function createTrainStep(options: TrainStepOptions): TrainStep {
  const plan = planStep(options);
  registerWasmKernels();
  let step = 0;
  return async (batch: TrainBatch): Promise<TrainStepStats> => {
    checkBatch(batch, plan);
    if (tf.getBackend() === 'wasm') quietWasmRethrow();
    const seed = (plan.selection?.seed ?? 0) + step;
    const micros = splitBatch(batch, plan);
    let result: StepResult | undefined;
    let finished: ReturnType<typeof finishStep> | undefined;
    let grads: tf.NamedTensorMap | undefined;
    try {
      result = plan.exact ? exactAccumulationStep(plan, micros, seed) : perMicroBatchStep(plan, micros, seed);
      finished = finishStep(plan, result);
      const values = await finished.stats.data();
      const stats = interpretStats(values, 'trainStep');
      const mask = plan.keepMask ? Uint8Array.from(await finished.mask.data()) : undefined;
      const gradNorm = values[values.length - 1]!;
      const scale = plan.clipNorm === undefined ? 1 : clipScale(plan.clipNorm, gradNorm);
      if (releasesGradients(plan.optimizer)) {
        // Each gradient is scaled and freed as its variable is updated: no second copy of all of them.
        plan.optimizer.applyScaledGradients(result.grads, scale);
      } else {
        grads = scaleGradients(result.grads, scale);
        plan.optimizer.applyGradients(grads);
      }
      step++;
      return {
        ...stats,
        gradNorm,
        step,
        ...(mask === undefined ? {} : { mask }),
      };
    } finally {
      tf.dispose(micros.flatMap((m) => [m.inputs, m.labels, m.refLoss]));
      if (result !== undefined) disposeResult(result);
      if (finished !== undefined) tf.dispose([finished.stats, finished.mask]);
      if (grads !== undefined && grads !== result?.grads) tf.dispose(grads);
    }
  };
}
