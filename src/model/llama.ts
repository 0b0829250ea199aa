// The Llama model: embedding → L × (RMSNorm → GQA attention → residual → RMSNorm → SwiGLU →
// residual) → RMSNorm → output projection. Weights are tf.Variables keyed by Hugging Face name,
// projections stored transposed (`[in, out]`) so every product is a plain 2-D matMul.
import * as tf from '@tensorflow/tfjs';
import { SLMError } from '../core/errors.js';
import { createRandom } from '../core/random.js';
import { elementCount } from '../core/shape.js';
import {
  adoptablePlacement,
  copiedPlacement,
  placedFloat32Array,
  reserveNativeMemory,
  writeToNative,
} from '../tfjs/nativeBackend.js';
import { type PiecewiseTensor, piecewiseTensor } from '../tfjs/piecewiseTensor.js';
import type { TrainableModel } from '../tfjs/trainStep.js';
import { causalBias } from './attention.js';
import { type LlamaConfig, type LlamaPresetName, resolveLlamaConfig } from './config.js';
import { type DecoderLayer, decoderLayer, recomputedDecoderLayer } from './decoderLayer.js';
import { type GenerateOptions, generate } from './generate.js';
import type { KVCache } from './kvCache.js';
import { rmsNorm } from './layers.js';
import { type NormalSampler, normalPieces } from './normalStreams.js';
import { embedding, linear } from './ops.js';
import { type ParameterSpec, parameterCount, parameterTable } from './parameterTable.js';
import { ropeTables } from './rope.js';
import { transposeInto } from './transpose.js';
import type { NamedWeight, SaveOptions, WeightLayout } from './weights.js';

/** Options of {@link LlamaModel.create}. */
export interface CreateOptions {
  /** Seed of the initial weights (normal, std 0.02; norms 1, as transformers initialises Llama). @default 0 */
  seed?: number;
  /**
   * How the normal weights are drawn. `'tfjs'`: the numbers `tf.randomNormal` gives for each
   * weight's seed, so a seed names the same model in every version. `'ziggurat'`: a ziggurat
   * sampler on xoshiro128** streams, four lanes at a time in WebAssembly SIMD, several times faster
   * per sample (TinyLlama-1.1B draws 1.1 billion), with other numbers for the same seed.
   * @default 'tfjs'
   */
  sampler?: NormalSampler;
}

/** Options of {@link LlamaModel.load} and {@link LlamaModel.fromWeightStream}. */
export interface LoadOptions {
  /**
   * The model will only run forward passes (scoring, evaluation, generation). On the `tensorflow`
   * backend its weights then stay in the arrays they were read into, which TensorFlow adopts
   * instead of copying: TinyLlama-1.1B loads and scores at about 1.2× its weights' memory instead of
   * 1.4×. Such a model still trains, but its first update copies every weight into TensorFlow's
   * memory (a buffer TensorFlow did not allocate is never updated in place), so leave it unset for
   * a model you train. @default false
   */
  inference?: boolean;
}

/** Options of {@link LlamaModel.load}. */
export interface CheckpointLoadOptions extends LoadOptions {
  /**
   * Called once every weight is read and the checkpoint's checksums verified, with the CRC-32 of
   * the weights as read: their float32 bytes in Hugging Face layout, weight after weight in
   * {@link parameterTable} order (what the scoring pipeline's `modelFingerprint` hashes, for a model
   * not changed since). Checkpoints `save` writes record it; for others the reading threads hash
   * the values as they decode them (about 1.5 s of a TinyLlama-1.1B load on 2 cores). Hashing a
   * loaded model instead reads every weight back out of the backend (11 s at that size).
   */
  onWeightsCrc?: (crc: number) => void;
}

/** The model's weights by role, looked up once by Hugging Face name. */
interface ModelWeights {
  /** Token embedding `[V, D]`. */
  embedding: tf.Tensor2D;
  layers: DecoderLayer[];
  /** Final RMSNorm `[D]`. */
  finalNorm: tf.Tensor1D;
  /** Output projection `[D, V]` (the embedding's transpose when tied). */
  head: tf.Tensor2D | 'tied';
}

/** Typed views of the variables in `weights` (Hugging Face names) for `config`. */
function byRole(config: LlamaConfig, weights: ReadonlyMap<string, tf.Variable>): ModelWeights {
  const get = <T extends tf.Tensor>(name: string) => weights.get(name) as unknown as T;
  return {
    embedding: get('model.embed_tokens.weight'),
    layers: Array.from({ length: config.num_hidden_layers }, (_, layer) => {
      const p = `model.layers.${layer}`;
      return {
        inputNorm: get(`${p}.input_layernorm.weight`),
        attention: {
          query: get(`${p}.self_attn.q_proj.weight`),
          key: get(`${p}.self_attn.k_proj.weight`),
          value: get(`${p}.self_attn.v_proj.weight`),
          output: get(`${p}.self_attn.o_proj.weight`),
        },
        mlpNorm: get(`${p}.post_attention_layernorm.weight`),
        gate: get(`${p}.mlp.gate_proj.weight`),
        up: get(`${p}.mlp.up_proj.weight`),
        down: get(`${p}.mlp.down_proj.weight`),
      };
    }),
    finalNorm: get('model.norm.weight'),
    head: config.tie_word_embeddings ? 'tied' : get<tf.Tensor2D>('lm_head.weight'),
  };
}

/** Projections are stored transposed from Hugging Face's `[out, in]`. */
function isProjection(name: string): boolean {
  return name.endsWith('_proj.weight') || name === 'lm_head.weight';
}

/** A weight's shape as the model stores it: Hugging Face's, reversed for projections (`[in, out]`). */
export function internalShape(spec: Pick<ParameterSpec, 'name' | 'shape'>): number[] {
  return isProjection(spec.name) ? [...spec.shape].reverse() : spec.shape;
}

/** The weights `create` draws (the matrices; norms start at ones), in its order: the largest first. */
export function drawnWeights(table: readonly ParameterSpec[]): ParameterSpec[] {
  return table
    .filter((spec) => spec.shape.length > 1)
    .sort((a, b) => elementCount(b.shape) - elementCount(a.shape));
}

let modelsCreated = 0;

/** Throws BAD_CHECKPOINT for the first tensor of the model that `shapeOf` lacks or shapes differently. */
function checkWeightShapes(
  config: LlamaConfig,
  shapeOf: (name: string) => readonly number[] | undefined,
): void {
  for (const spec of parameterTable(config)) {
    const shape = shapeOf(spec.name);
    if (shape === undefined)
      throw new SLMError('BAD_CHECKPOINT', `Checkpoint is missing tensor '${spec.name}' [${spec.shape}].`);
    if (shape.join() !== spec.shape.join()) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `Checkpoint tensor '${spec.name}' has shape [${shape}], expected [${spec.shape}].`,
      );
    }
  }
}

/**
 * How a model keeps its weights: projections transposed; for inference in arrays TensorFlow adopts,
 * otherwise in arrays it copies into memory it then updates in place (see LoadOptions.inference).
 */
function modelLayout(inference: boolean): WeightLayout {
  return { transposed: isProjection, placement: inference ? adoptablePlacement : copiedPlacement };
}

/**
 * A Hugging Face–layout weight's values laid out as `layout` asks, in a new array: on the host,
 * not by a transpose op (whose copy would stay in TensorFlow's pool).
 */
function layOut(name: string, { data, shape }: NamedWeight, layout: WeightLayout): Float32Array {
  const values = placedFloat32Array(data.length, layout.placement(data.length));
  if (layout.transposed(name)) transposeInto(data, shape[0]!, shape[1]!, values);
  else values.set(data);
  return values;
}

/** A trainable variable of `values`, already laid out, handed to the backend now. */
function variableOf(modelId: number, name: string, values: Float32Array, shape: number[]): tf.Variable {
  return madeVariable(modelId, name, tf.tensor(values, shape, 'float32'));
}

/** Weight `name` of model `modelId` as a trainable variable made of `initial`, which it disposes. */
function madeVariable(modelId: number, name: string, initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial, true, `llama${modelId}/${name}`);
  writeToNative(variable); // its TensorFlow tensor made now, not at first use
  initial.dispose();
  return variable;
}

/** A Llama-architecture language model on tfjs (see {@link LlamaConfig} for the shape letters). */
export class LlamaModel implements TrainableModel {
  /** The configuration, Hugging Face field names. */
  readonly config: LlamaConfig;
  /**
   * Training memory: in `forward` under a gradient tape, recompute each decoder layer's
   * activations during the backward pass instead of keeping them (gradient checkpointing). The
   * tape then holds one `[B·T, D]` tensor per layer instead of every intermediate; each step runs
   * the layers' forward once more. Same values and gradients. Not used with a {@link KVCache}.
   * @default false
   */
  recomputeActivations = false;
  readonly #weights: Map<string, tf.Variable>;
  readonly #roles: ModelWeights;
  #tables: { positions: number; cos: tf.Tensor2D; sin: tf.Tensor2D; causalBias: tf.Tensor2D } | undefined;

  private constructor(config: LlamaConfig, weights: Map<string, tf.Variable>) {
    this.config = config;
    this.#weights = weights;
    this.#roles = byRole(config, weights);
  }

  /**
   * A new model with seeded random weights.
   *
   * @param config - a preset name (`'tinyllama-1.1b'`, `'nano'`, `'demo'`) or a configuration
   * @param options - see {@link CreateOptions}
   * @throws {@link SLMError} `BAD_CONFIG`; `BAD_OPTION` for an unknown sampler
   * @example
   * ```ts
   * const model = LlamaModel.create('nano', { seed: 1 });
   * const logits = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')); // [1, 3, 259]
   * ```
   */
  static create(config: LlamaPresetName | LlamaConfig, options: CreateOptions = {}): LlamaModel {
    const resolved = resolveLlamaConfig(config);
    const sampler = options.sampler ?? 'tfjs';
    if (sampler !== 'tfjs' && sampler !== 'ziggurat')
      throw new SLMError(
        'BAD_OPTION',
        `sampler must be 'tfjs' or 'ziggurat', got ${JSON.stringify(sampler)}.`,
      );
    const seeds = createRandom(options.seed ?? 0);
    const id = ++modelsCreated;
    const weights = new Map<string, tf.Variable>();
    const table = parameterTable(resolved);
    const seedOf = new Map(table.map((spec) => [spec.name, Math.floor(seeds() * 2 ** 31)]));
    // Drawn in worker threads (see normalPieces) and written piece by piece into memory that
    // TensorFlow's threads have faulted in. The largest first: with the tfjs sampler a tensor is
    // one piece, and the threads take the pieces in turn and hand them over in order, so a large
    // one late (lm_head) would be drawn by one thread while the others wait. The map keeps the
    // table's order.
    reserveNativeMemory(parameterCount(table));
    const drawOrder = drawnWeights(table);
    const shapes = drawOrder.map(internalShape);
    const pieces = normalPieces(
      shapes.map(([rows, cols], i) => ({ rows: rows!, cols: cols!, seed: seedOf.get(drawOrder[i]!.name)! })),
      0.02,
      { sampler },
    );
    const drawn = new Map<string, tf.Variable>();
    let pending: PiecewiseTensor | undefined;
    try {
      for (const { job, index, pieces: count, values } of pieces) {
        if (index === 0) pending = piecewiseTensor(shapes[job]!, count);
        pending!.write(index, values);
        if (index === count - 1) {
          const spec = drawOrder[job]!;
          const initial = pending!.finish();
          pending = undefined;
          drawn.set(spec.name, madeVariable(id, spec.name, initial));
        }
      }
      for (const spec of table)
        weights.set(spec.name, drawn.get(spec.name) ?? madeVariable(id, spec.name, tf.ones(spec.shape)));
    } catch (error) {
      pending?.discard();
      tf.dispose([...drawn.values(), ...weights.values()]);
      throw error;
    } finally {
      pieces.return(undefined); // stops the worker threads
    }
    return new LlamaModel(resolved, weights);
  }

  /**
   * A model from weights in Hugging Face layout (what `exportWeights` and checkpoint readers produce).
   *
   * @param config - the configuration
   * @param weights - every tensor of {@link parameterTable} by name; extra names are ignored
   * @throws {@link SLMError} `BAD_CONFIG`; `BAD_CHECKPOINT` naming a missing or mis-shaped tensor
   * @example
   * ```ts
   * const copy = LlamaModel.fromWeights(model.config, await model.exportWeights());
   * ```
   */
  static fromWeights(
    config: LlamaPresetName | LlamaConfig,
    weights: ReadonlyMap<string, NamedWeight>,
  ): LlamaModel {
    const resolved = resolveLlamaConfig(config);
    checkWeightShapes(resolved, (name) => weights.get(name)?.shape);
    const id = ++modelsCreated;
    const layout = modelLayout(false);
    const variables = new Map<string, tf.Variable>();
    for (const spec of parameterTable(resolved)) {
      const values = layOut(spec.name, weights.get(spec.name)!, layout);
      variables.set(spec.name, variableOf(id, spec.name, values, internalShape(spec)));
    }
    return new LlamaModel(resolved, variables);
  }

  /**
   * A model from a stream of weights in Hugging Face layout, turned into variables one at a time
   * (so a large checkpoint is never held twice in memory). `shapes` is checked before any data is read.
   *
   * @param config - the configuration
   * @param shapes - the shape of every available tensor by name (e.g. from file headers)
   * @param stream - `[name, weight]` pairs; names not in the model are skipped
   * @param options - see {@link LoadOptions}
   * @throws {@link SLMError} `BAD_CONFIG`; `BAD_CHECKPOINT` naming a missing or mis-shaped tensor
   */
  static async fromWeightStream(
    config: LlamaPresetName | LlamaConfig,
    shapes: ReadonlyMap<string, readonly number[]>,
    stream: AsyncIterable<[string, NamedWeight]>,
    options: LoadOptions = {},
  ): Promise<LlamaModel> {
    const resolved = resolveLlamaConfig(config);
    checkWeightShapes(resolved, (name) => shapes.get(name));
    const layout = modelLayout(options.inference === true);
    const needed = new Set(parameterTable(resolved).map((spec) => spec.name));
    async function* laidOut(): AsyncGenerator<[string, Float32Array]> {
      for await (const [name, weight] of stream)
        if (needed.has(name)) yield [name, layOut(name, weight, layout)];
    }
    return LlamaModel.#fromLaidOut(resolved, laidOut());
  }

  /**
   * A model of the weights `stream` yields already laid out (as {@link modelLayout} asks), in any
   * order, each made a variable as it comes; every weight of the configuration must come, once. On
   * an error every variable made so far is disposed.
   */
  static async #fromLaidOut(
    config: LlamaConfig,
    stream: AsyncIterable<[string, Float32Array]>,
  ): Promise<LlamaModel> {
    const table = parameterTable(config);
    const shapes = new Map(table.map((spec) => [spec.name, internalShape(spec)]));
    const id = ++modelsCreated;
    const variables = new Map<string, tf.Variable>();
    try {
      for await (const [name, values] of stream) {
        const shape = shapes.get(name);
        if (shape === undefined) continue;
        if (variables.has(name))
          throw new SLMError('BAD_CHECKPOINT', `Checkpoint stream holds '${name}' more than once.`);
        variables.set(name, variableOf(id, name, values, shape));
      }
    } catch (error) {
      tf.dispose([...variables.values()]);
      throw error;
    }
    const missing = table.filter((spec) => !variables.has(spec.name));
    if (missing.length > 0) {
      tf.dispose([...variables.values()]);
      throw new SLMError(
        'BAD_CHECKPOINT',
        `Checkpoint stream ended without ${missing.map((spec) => `'${spec.name}'`).join(', ')}.`,
      );
    }
    return new LlamaModel(config, new Map(table.map((spec) => [spec.name, variables.get(spec.name)!])));
  }

  /**
   * Loads a Hugging Face checkpoint directory (Node only): `config.json` + `model.safetensors` or
   * the shards of `model.safetensors.index.json`, in F32, F16 or BF16. Sizes are checked against
   * the files before anything is read; names, shapes and dtypes are compared with the configuration
   * before any weight is read (`rotary_emb.inv_freq` buffers are ignored, other extra tensors are an
   * error). Worker threads (one per core, for checkpoints of 32 MiB or more) read, decode and lay
   * out the weights, each straight into the array the model keeps, and the data checksum that
   * `save` records is verified; TinyLlama-1.1B in BF16 loads in 4–6 s on 2 cores.
   *
   * @param options - see {@link CheckpointLoadOptions}; `{ inference: true }` for a model that only scores
   * @throws {@link SLMError} `BAD_CONFIG`, `BAD_CHECKPOINT` naming the file and a missing, extra or mis-shaped tensor or the corruption
   *
   * @example
   * ```ts
   * const model = await LlamaModel.load('TinyLlama-1.1B');
   * const scorer = await LlamaModel.load('checkpoints/ref', { inference: true });
   * ```
   */
  static async load(directory: string, options: CheckpointLoadOptions = {}): Promise<LlamaModel> {
    const { readLlamaCheckpoint } = await import('./checkpoint.js');
    const { config, weights } = await readLlamaCheckpoint(directory);
    const layout = modelLayout(options.inference === true);
    const read = options.onWeightsCrc === undefined ? {} : { onWeightsCrc: options.onWeightsCrc };
    return LlamaModel.#fromLaidOut(config, weights(layout, read));
  }

  /**
   * Saves as a Hugging Face checkpoint directory (Node only): `config.json` and `model.safetensors`
   * (F32, or BF16 with `{ dtype: 'BF16' }`), each written atomically, loadable by transformers'
   * `LlamaForCausalLM.from_pretrained`. The safetensors metadata carries a CRC-32 that `load` checks.
   *
   * @example
   * ```ts
   * await model.save('checkpoints/ref');
   * ```
   */
  async save(directory: string, options: SaveOptions = {}): Promise<void> {
    const { saveLlamaCheckpoint } = await import('./checkpoint.js');
    await saveLlamaCheckpoint(this, directory, options);
  }

  /**
   * Generates tokens after `prompt` with a key/value cache (batch of one): greedy at temperature 0,
   * otherwise seeded sampling with temperature and nucleus (`topP`) truncation.
   *
   * @param prompt - token ids, at least one
   * @param options - see {@link GenerateOptions}
   * @returns the new token ids (without the prompt or a stop token)
   * @throws {@link SLMError} `BAD_OPTION`
   * @example
   * ```ts
   * const ids = await model.generate([1, 450, 4996], { maxNewTokens: 20 });
   * ```
   */
  async generate(prompt: ArrayLike<number>, options: GenerateOptions): Promise<number[]> {
    return generate(this, prompt, options);
  }

  /** One weight in Hugging Face layout. */
  async exportWeight(name: string): Promise<Float32Array> {
    const variable = this.#weights.get(name);
    if (variable === undefined) throw new SLMError('BAD_OPTION', `LlamaModel has no weight '${name}'.`);
    const data = (await variable.data()) as Float32Array;
    if (!isProjection(name)) return data;
    // Back to Hugging Face's [out, in] on the host, as layOut lays it out (no transpose op).
    const [rows, columns] = variable.shape as [number, number];
    const exported = new Float32Array(data.length);
    transposeInto(data, rows, columns, exported);
    return exported;
  }

  /** The weights in Hugging Face layout, by name, in {@link parameterTable} order. */
  async exportWeights(): Promise<Map<string, NamedWeight>> {
    const exported = new Map<string, NamedWeight>();
    for (const spec of parameterTable(this.config)) {
      exported.set(spec.name, { shape: spec.shape, data: await this.exportWeight(spec.name) });
    }
    return exported;
  }

  /** Number of parameters (tied embeddings counted once). */
  parameterCount(): number {
    return parameterCount(parameterTable(this.config));
  }

  /** The trainable variables (for optimizers and `createTrainStep`). */
  trainableVariables(): tf.Variable[] {
    return [...this.#weights.values()];
  }

  /** RoPE tables and causal bias for `n` new positions after `past` cached ones. */
  #positionTables(n: number, past: number) {
    const needed = past + n;
    if (this.#tables === undefined || this.#tables.positions < needed) {
      if (this.#tables !== undefined)
        tf.dispose([this.#tables.cos, this.#tables.sin, this.#tables.causalBias]);
      const size = Math.max(needed, Math.min(this.config.max_position_embeddings, 128));
      const headSize = this.config.hidden_size / this.config.num_attention_heads;
      const { cos, sin } = tf.tidy(() => ropeTables(size, headSize, this.config.rope_theta));
      this.#tables = {
        positions: size,
        cos: tf.keep(cos),
        sin: tf.keep(sin),
        causalBias: tf.keep(causalBias(size)),
      };
    }
    const tables = this.#tables;
    return {
      cos: tf.slice(tables.cos, [past, 0], [n, -1]),
      sin: tf.slice(tables.sin, [past, 0], [n, -1]),
      // Rows past … past+n−1 of the full causal mask, columns 0 … past+n−1.
      causalBias: tf.slice(tables.causalBias, [past, 0], [n, needed]),
    };
  }

  /**
   * Next-token logits for every position. With a {@link KVCache}, `ids` continue the cached
   * sequence: they attend to every cached position and are appended to the cache.
   *
   * @param ids - token ids `[B, T]` int32; cached + new positions ≤ `max_position_embeddings`
   * @param cache - optional key/value cache for incremental decoding
   * @returns logits `[B, T, V]`
   * @throws {@link SLMError} `SHAPE_MISMATCH` for a bad `ids` shape or too many positions
   */
  forward(ids: tf.Tensor, cache?: KVCache): tf.Tensor3D {
    const past = cache?.length ?? 0;
    if (ids.rank !== 2 || past + ids.shape[1]! > this.config.max_position_embeddings) {
      throw new SLMError(
        'SHAPE_MISMATCH',
        `Argument 'ids' passed to 'LlamaModel.forward' has shape [${ids.shape}]${past > 0 ? ` after ${past} cached positions` : ''}, expected [B, T] with ${past > 0 ? 'cached + T' : 'T'} ≤ ${this.config.max_position_embeddings}.`,
      );
    }
    const [B, T] = ids.shape as [number, number];
    const c = this.config;
    const weights = this.#roles;
    return tf.tidy(() => {
      const tables = this.#positionTables(T, past);
      const context = {
        batch: B,
        positions: T,
        heads: c.num_attention_heads,
        keyValueHeads: c.num_key_value_heads,
        headSize: c.hidden_size / c.num_attention_heads,
        ...tables,
      };
      let x = embedding(tf.reshape(tf.cast(ids, 'int32'), [B * T]), weights.embedding); // [B·T, D]
      // A scope per layer: its intermediates are freed as soon as it is done, not at the end of the
      // forward (what the backward needs, a gradient tape keeps for itself). Scoring TinyLlama-1.1B
      // held 0.8 GiB of them at once.
      for (const [index, layer] of weights.layers.entries()) {
        const input = x;
        x = tf.tidy(
          () =>
            this.recomputeActivations && cache === undefined
              ? recomputedDecoderLayer(input, layer, context, c.rms_norm_eps) // [B·T, D]
              : decoderLayer(input, layer, context, c.rms_norm_eps, cache?.layers[index]), // [B·T, D]
        );
      }
      x = rmsNorm(x, weights.finalNorm, c.rms_norm_eps); // [B·T, D]
      const head = weights.head === 'tied' ? (tf.transpose(weights.embedding) as tf.Tensor2D) : weights.head; // [D, V]
      return tf.reshape(linear(x, head), [B, T, c.vocab_size]) as tf.Tensor3D; // [B·T, V] → [B, T, V]
    });
  }

  /** Frees every weight and cached table. */
  dispose(): void {
    tf.dispose([...this.#weights.values()]);
    if (this.#tables !== undefined) tf.dispose([this.#tables.cos, this.#tables.sin, this.#tables.causalBias]);
    this.#weights.clear();
    this.#tables = undefined;
  }
}
