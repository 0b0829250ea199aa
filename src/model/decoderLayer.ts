// One decoder layer (pre-norm attention and SwiGLU MLP, each with a residual), and the same layer
// with its activations recomputed in the backward pass instead of kept (gradient checkpointing).
import * as tf from '@tensorflow/tfjs';
import { type AttentionContext, type AttentionWeights, attention, type LayerCache } from './attention.js';
import { rmsNorm, swiGlu } from './layers.js';

/** One decoder layer's weights, projections in the internal `[in, out]` layout. */
export interface DecoderLayer {
  /** RMSNorm before attention, `[D]`. */
  inputNorm: tf.Tensor1D;
  /** Q, K, V and output projections. */
  attention: AttentionWeights;
  /** RMSNorm before the MLP, `[D]`. */
  mlpNorm: tf.Tensor1D;
  /** SwiGLU gate and up projections `[D, I]`, down projection `[I, D]`. */
  gate: tf.Tensor2D;
  up: tf.Tensor2D;
  down: tf.Tensor2D;
}

/**
 * The layer: `x + attention(norm(x))`, then `+ swiGlu(norm(·))`.
 *
 * @param x - hidden states `[B·T, D]`
 * @returns hidden states `[B·T, D]`
 */
export function decoderLayer(
  x: tf.Tensor2D,
  layer: DecoderLayer,
  context: AttentionContext,
  eps: number,
  cache?: LayerCache,
): tf.Tensor2D {
  const normed = rmsNorm(x, layer.inputNorm, eps); // [B·T, D]
  const attended = tf.add(x, attention(normed, layer.attention, context, cache)) as tf.Tensor2D; // [B·T, D]
  const mlpInput = rmsNorm(attended, layer.mlpNorm, eps); // [B·T, D]
  return tf.add(attended, swiGlu(mlpInput, layer.gate, layer.up, layer.down)) as tf.Tensor2D; // [B·T, D]
}

function weightList(layer: DecoderLayer): tf.Tensor[] {
  const { query, key, value, output } = layer.attention;
  return [layer.inputNorm, query, key, value, output, layer.mlpNorm, layer.gate, layer.up, layer.down];
}

function layerOf(weights: tf.Tensor[]): DecoderLayer {
  const [inputNorm, query, key, value, output, mlpNorm, gate, up, down] = weights;
  return {
    inputNorm: inputNorm as tf.Tensor1D,
    attention: {
      query: query as tf.Tensor2D,
      key: key as tf.Tensor2D,
      value: value as tf.Tensor2D,
      output: output as tf.Tensor2D,
    },
    mlpNorm: mlpNorm as tf.Tensor1D,
    gate: gate as tf.Tensor2D,
    up: up as tf.Tensor2D,
    down: down as tf.Tensor2D,
  };
}

/**
 * Runs `work` (which computes gradients) inside another gradient computation's backward pass: tfjs
 * keeps one tape per engine, and a gradient computed at depth 0 starts a new tape and, when done,
 * frees it and clears the engine's. The outer tape is put aside and restored, so the inner one (the
 * recomputed layer's) is freed at once and the outer backward pass goes on.
 */
function separateTape<T>(work: () => T): T {
  const state = tf.engine().state;
  const outer = state.activeTape;
  try {
    return work();
  } finally {
    state.activeTape = outer;
  }
}

/**
 * {@link decoderLayer} whose backward pass recomputes the layer's activations from its input
 * instead of keeping them from the forward pass: the tape holds one `[B·T, D]` tensor per layer
 * rather than every intermediate (attention scores `[B, H, T, T]`, MLP activations `[B·T, I]`, …),
 * for one more forward of the layer per backward. Values and gradients are those of
 * {@link decoderLayer}.
 *
 * @param x - hidden states `[B·T, D]`
 * @returns hidden states `[B·T, D]`
 */
export function recomputedDecoderLayer(
  x: tf.Tensor2D,
  layer: DecoderLayer,
  context: AttentionContext,
  eps: number,
): tf.Tensor2D {
  const run = (input: tf.Tensor, weights: tf.Tensor[], tables: AttentionContext) =>
    decoderLayer(input as tf.Tensor2D, layerOf(weights), tables, eps);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, ...weights] = args as tf.Tensor[];
    // Kept for the backward pass: the input and the position tables (the caller's may be freed).
    save([input!, context.cos, context.sin, context.causalBias]);
    return {
      value: tf.tidy(() => run(input!, weights, context)), // not taped: no intermediate is kept
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [kept, cos, sin, causalBias] = saved as [tf.Tensor, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const tables = { ...context, cos, sin, causalBias };
        return separateTape(() =>
          tf.grads((...xs: tf.Tensor[]) => run(xs[0]!, xs.slice(1), tables))([kept, ...weights], dy),
        );
      },
    };
  });
  return op(x, ...weightList(layer)) as tf.Tensor2D;
}
