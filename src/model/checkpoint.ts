// Hugging Face checkpoint directories: config.json plus model.safetensors, or shards listed in
// model.safetensors.index.json. Node only (file system).
import { access, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SLMError } from '../core/errors.js';
import { elementCount } from '../core/shape.js';
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';
import { readJsonBounded } from '../io/boundedRead.js';
import { combineCrc32 } from '../io/checksum.js';
import { DTYPE_BYTES, type TensorDtype } from '../io/dtypes.js';
import type { Placement } from '../tfjs/nativeBackend.js';
import { type LlamaConfig, validateLlamaConfig } from './config.js';
import { type ReadTensorsOptions, readTensors, type TensorRead } from './parallelRead.js';
import { type ParameterSpec, parameterTable } from './parameterTable.js';
import {
  checkDataChecksum,
  readSafetensorsHeader,
  recordedChecksum,
  recordedValuesChecksum,
  type SafetensorsEntry,
  type SafetensorsHeader,
  writeSafetensors,
} from './safetensors.js';
import type { NamedWeight, SaveOptions, WeightLayout, WeightSource } from './weights.js';

/** Options of {@link CheckpointContents.weights}. */
export interface WeightReadOptions extends ReadTensorsOptions {
  /**
   * Called after the last weight, once the checksums are verified, with the CRC-32 of the weights'
   * float32 values in Hugging Face layout (their bytes in host order), weight after weight in
   * {@link parameterTable} order: as the file records it where it holds exactly those weights in
   * that order (as `save` writes them), otherwise hashed by the reading threads as they decode.
   */
  onWeightsCrc?: (crc: number) => void;
}

/** A checkpoint directory opened for reading: its configuration, and its weights to read. */
export interface CheckpointContents {
  /** The validated configuration from `config.json`. */
  config: LlamaConfig;
  /**
   * Reads the model's weights, each laid out as `layout` asks, in worker threads where Node has
   * them; yields them in the order they finish. Every file's recorded data checksum is verified
   * after the last weight: a consumer must not keep what it read until the stream has ended
   * without an error.
   */
  weights(layout: WeightLayout, options?: WeightReadOptions): AsyncIterable<[string, Float32Array]>;
}

/** Largest `config.json` or shard index read (real ones are a few kilobytes). */
const MAX_JSON_BYTES = 16 << 20;
/** Metadata key of the configuration recorded in `model.safetensors` when this library saves. */
const CONFIG_KEY = 'rho_slm_config';

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return await readJsonBounded(path, MAX_JSON_BYTES, 'BAD_CHECKPOINT');
  } catch (error) {
    if (error instanceof SLMError) throw error;
    if ((error as { code?: string }).code === 'ENOENT')
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${path} does not exist: ${dirname(path)} is not a model directory (no ${what}).`,
      );
    throw new SLMError('BAD_CHECKPOINT', `Cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The validated configuration in `path`, errors prefixed with the file's name. */
async function readConfig(path: string): Promise<LlamaConfig> {
  const json = await readJson(path, 'config.json');
  try {
    return validateLlamaConfig(json);
  } catch (error) {
    if (error instanceof SLMError) throw new SLMError(error.code, `${path}: ${error.message}`);
    throw error;
  }
}

/** The safetensors files of a checkpoint directory (one file, or the shards of an index). */
async function weightFiles(directory: string): Promise<string[]> {
  const single = join(directory, 'model.safetensors');
  try {
    await access(single);
  } catch {
    const indexPath = join(directory, 'model.safetensors.index.json');
    const index = (await readJson(indexPath, 'model.safetensors or shard index')) as {
      weight_map?: unknown;
    };
    const files = typeof index === 'object' && index !== null ? index.weight_map : undefined;
    if (typeof files !== 'object' || files === null || Array.isArray(files)) {
      throw new SLMError('BAD_CHECKPOINT', `${indexPath} has no weight_map.`);
    }
    const names = [...new Set(Object.values(files))];
    const unsafe = names.find(
      (file) => typeof file !== 'string' || file !== basename(file) || !file.endsWith('.safetensors'),
    );
    if (unsafe !== undefined) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${indexPath} maps a tensor to ${JSON.stringify(unsafe)}; expected a .safetensors file name in the same directory.`,
      );
    }
    return (names as string[]).map((file) => join(directory, file));
  }
  return [single];
}

/** One safetensors file of a checkpoint: its header, and the names the model reads from it. */
interface WeightFile {
  path: string;
  header: SafetensorsHeader;
  wanted: Set<string>;
}

/**
 * The weights of `files` laid out as `layout` asks (see {@link CheckpointContents.weights}). In a
 * file with a recorded data checksum, every tensor is hashed (the unwanted ones only hashed), and
 * the parts' CRCs combine, in file order, into the whole data section's; the weights' values CRCs
 * combine in `table` order.
 */
async function* readWeights(
  files: readonly WeightFile[],
  table: readonly ParameterSpec[],
  layout: WeightLayout,
  options: WeightReadOptions = {},
): AsyncGenerator<[string, Float32Array]> {
  const recorded = files.map(({ path, header }) => recordedChecksum(path, header));
  // The values' CRC-32 as recorded at save, where the file holds exactly the model's weights in
  // parameter-table order and a data checksum that vouches for it; otherwise hashed as read.
  const [only] = files;
  const recordedValues =
    files.length === 1 && recorded[0] !== undefined && inTableOrder(only!.header, table)
      ? recordedValuesChecksum(only!.path, only!.header)
      : undefined;
  const hashValues = options.onWeightsCrc !== undefined && recordedValues === undefined;
  const reads: TensorRead[] = [];
  const names: string[] = [];
  const checks = files.map(({ path, header, wanted }, file) => {
    const expected = recorded[file];
    const parts: { index: number; bytes: number }[] = [];
    for (const entry of [...header.entries.values()].sort((a, b) => a.start - b.start)) {
      const hashOnly = !wanted.has(entry.name);
      if (hashOnly && expected === undefined) continue;
      const [rows, columns] = entry.shape.length === 2 ? entry.shape : [1, elementCount(entry.shape)];
      const length = rows! * columns!;
      parts.push({ index: reads.length, bytes: entry.end - entry.start });
      names.push(entry.name);
      reads.push({
        path,
        start: entry.start,
        end: entry.end,
        dtype: entry.dtype as TensorDtype,
        rows: rows!,
        columns: columns!,
        transpose: entry.shape.length === 2 && layout.transposed(entry.name),
        hashOnly,
        hash: expected !== undefined,
        hashValues: hashValues && !hashOnly,
        ...layout.placement(length),
      });
    }
    return { path, expected, parts };
  });
  const crcs: number[] = [];
  const valuesCrcs = new Map<string, number>();
  for await (const [index, { crc, valuesCrc, values }] of readTensors(reads, options)) {
    crcs[index] = crc;
    if (values === undefined) continue;
    valuesCrcs.set(names[index]!, valuesCrc);
    yield [names[index]!, values];
  }
  for (const { path, expected, parts } of checks) {
    if (expected === undefined) continue;
    const whole = parts.reduce((crc, { index, bytes }) => combineCrc32(crc, crcs[index]!, bytes), 0);
    checkDataChecksum(path, whole, expected);
  }
  options.onWeightsCrc?.(
    recordedValues ??
      table.reduce(
        (crc, { name, shape }) => combineCrc32(crc, valuesCrcs.get(name)!, 4 * elementCount(shape)),
        0,
      ),
  );
}

/** Whether `header` lists exactly the tensors of `table`, in its order. */
function inTableOrder(header: SafetensorsHeader, table: readonly ParameterSpec[]): boolean {
  const stored = [...header.entries.values()].sort((a, b) => a.start - b.start);
  return stored.length === table.length && stored.every((entry, i) => entry.name === table[i]!.name);
}

/** Buffers that Hugging Face checkpoints may carry and the model does not use. */
function isIgnoredTensor(name: string): boolean {
  return name.endsWith('.rotary_emb.inv_freq');
}

/**
 * Compares the configuration's parameter table with the tensors the headers list, before any
 * weight is read: every parameter present with its shape and a readable dtype, and no tensor the
 * configuration does not use (so a `config.json` with fewer layers or tied embeddings cannot load
 * part of a checkpoint as a different model).
 */
function checkTensorList(
  files: readonly string[],
  config: LlamaConfig,
  located: ReadonlyMap<string, { file: string; entry: SafetensorsEntry }>,
): void {
  const fail = (problem: string): never => {
    throw new SLMError('BAD_CHECKPOINT', problem);
  };
  const table = parameterTable(config);
  for (const spec of table) {
    const place = located.get(spec.name);
    if (place === undefined)
      fail(`checkpoint is missing tensor '${spec.name}' [${spec.shape}] (looked in ${files.join(', ')}).`);
    const { entry, file } = place!;
    if (entry.shape.join() !== spec.shape.join())
      fail(`${file}: tensor '${spec.name}' has shape [${entry.shape}], expected [${spec.shape}].`);
    if (!(entry.dtype in DTYPE_BYTES))
      fail(`${file}: tensor '${spec.name}' has dtype ${entry.dtype}; supported: F32, F16, BF16.`);
  }
  const used = new Set(table.map((spec) => spec.name));
  for (const [name, { file }] of located) {
    if (!used.has(name) && !isIgnoredTensor(name))
      fail(
        `${file} holds tensor '${name}', which config.json does not use (do num_hidden_layers and tie_word_embeddings match the weights?).`,
      );
  }
}

/** Throws when the configuration a file recorded at save differs from `config.json`. */
function checkRecordedConfig(file: string, metadata: Record<string, string>, config: LlamaConfig): void {
  const recorded = metadata[CONFIG_KEY];
  if (recorded === undefined) return;
  let saved: LlamaConfig;
  try {
    saved = validateLlamaConfig(JSON.parse(recorded));
  } catch {
    throw new SLMError('BAD_CHECKPOINT', `${file}: metadata ${CONFIG_KEY} is corrupt.`);
  }
  for (const field of Object.keys(saved) as (keyof LlamaConfig)[]) {
    if (saved[field] !== config[field]) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `config.json beside ${file} has ${field} ${config[field]}, but the weights were saved with ${saved[field]}.`,
      );
    }
  }
}

/**
 * Opens a Hugging Face Llama directory (`config.json` + `model.safetensors` or sharded
 * `model.safetensors.index.json`; F32, F16 or BF16) for `LlamaModel.load`. Every size is checked
 * against the file before it is read. The configuration's parameter table is compared with the
 * headers' tensor lists (names, shapes, dtypes; `rotary_emb.inv_freq` buffers are ignored, any other
 * extra tensor is an error) and with the configuration recorded at save, before any weight is read.
 * Returns the configuration and a reader of the model's weights, which verifies the data checksum
 * of every file that records one.
 *
 * @param directory - the checkpoint directory
 * @throws {@link SLMError} `BAD_CONFIG`, `BAD_CHECKPOINT` (missing, extra or mis-shaped tensor, corrupt file), each naming the file
 */
export async function readLlamaCheckpoint(directory: string): Promise<CheckpointContents> {
  const config = await readConfig(join(directory, 'config.json'));
  const located = new Map<string, { file: string; entry: SafetensorsEntry }>();
  const files: WeightFile[] = [];
  for (const path of await weightFiles(directory)) {
    const header = await readSafetensorsHeader(path);
    checkRecordedConfig(path, header.metadata, config);
    for (const entry of header.entries.values()) {
      const earlier = located.get(entry.name);
      if (earlier !== undefined)
        throw new SLMError('BAD_CHECKPOINT', `${path} and ${earlier.file} both hold tensor '${entry.name}'.`);
      located.set(entry.name, { file: path, entry });
    }
    files.push({ path, header, wanted: new Set() });
  }
  checkTensorList(
    files.map((file) => file.path),
    config,
    located,
  );
  const table = parameterTable(config);
  for (const { name } of table) files.find((file) => file.path === located.get(name)!.file)!.wanted.add(name);
  return { config, weights: (layout, options) => readWeights(files, table, layout, options) };
}

/** Options of {@link readSafetensorsInThreads}. */
export interface ThreadedReadOptions extends ReadTensorsOptions {
  /** Where `length` float32 values go (for example `copiedPlacement`, to hand them to TensorFlow as copies). */
  placement: (length: number) => Placement;
}

/**
 * Every tensor of one safetensors file (F32, F16 or BF16) as float32 values, read and decoded in
 * worker threads where Node has them, each into a buffer of its own placed as `options.placement`
 * asks; yielded in the order they finish. The file's recorded data checksum is verified after the
 * last tensor: a consumer must not keep what it read until the stream has ended without an error.
 * (`readSafetensors` reads on the calling thread, in file order.)
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` for a malformed file, an unsupported dtype or a checksum mismatch
 * @example
 * ```ts
 * for await (const [name, { shape, data }] of readSafetensorsInThreads('optimizer.safetensors', { placement: copiedPlacement }))
 *   console.log(name, shape, data.length);
 * ```
 */
export async function* readSafetensorsInThreads(
  path: string,
  options: ThreadedReadOptions,
): AsyncGenerator<[string, NamedWeight]> {
  const header = await readSafetensorsHeader(path);
  for (const entry of header.entries.values())
    if (!(entry.dtype in DTYPE_BYTES))
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${path}: tensor '${entry.name}' has dtype ${entry.dtype}; supported: F32, F16, BF16.`,
      );
  const file = { path, header, wanted: new Set(header.entries.keys()) };
  const layout: WeightLayout = { transposed: () => false, placement: options.placement };
  for await (const [name, data] of readWeights([file], [], layout, options))
    yield [name, { shape: header.entries.get(name)!.shape, data }];
}

/** `config.json` contents for a configuration, as Hugging Face transformers writes it. */
function huggingFaceConfig(config: LlamaConfig, dtype: 'F32' | 'BF16'): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_act: 'silu',
    initializer_range: 0.02,
    torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float32',
    ...config,
  };
}

/**
 * Saves a model as a Hugging Face directory (`config.json` + `model.safetensors`), each file
 * written atomically; transformers' `LlamaForCausalLM.from_pretrained(directory)` loads it.
 *
 * @param model - the model
 * @param directory - created if missing
 * @param options - see {@link SaveOptions}
 * @example
 * ```ts
 * await saveLlamaCheckpoint(model, 'checkpoints/ref', { dtype: 'BF16' });
 * ```
 */
export async function saveLlamaCheckpoint(
  model: WeightSource,
  directory: string,
  options: SaveOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  await mkdir(directory, { recursive: true });
  await writeSafetensors(
    join(directory, 'model.safetensors'),
    parameterTable(model.config),
    (name) => model.exportWeight(name),
    { dtype, metadata: { [CONFIG_KEY]: JSON.stringify(model.config) } },
  );
  const json = Buffer.from(`${JSON.stringify(huggingFaceConfig(model.config, dtype), null, 2)}\n`);
  await writeFileAtomic(join(directory, 'config.json'), (handle) => writeAll(handle, json, 0));
}
