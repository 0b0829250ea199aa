// Hugging Face checkpoint directories: config.json plus model.safetensors, or shards listed in
// model.safetensors.index.json. Node only (file system).
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SLMError } from '../core/errors.js';
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';
import { type LlamaConfig, validateLlamaConfig } from './config.js';
import { parameterTable } from './parameterTable.js';
import {
  readSafetensors,
  readSafetensorsHeader,
  type SafetensorsEntry,
  writeSafetensors,
} from './safetensors.js';
import type { NamedWeight, SaveOptions, WeightSource } from './weights.js';

/** A checkpoint directory opened for reading: configuration, tensor shapes, and the weights as a stream. */
export interface CheckpointContents {
  /** The validated configuration from `config.json`. */
  config: LlamaConfig;
  /** Shape of every tensor in the files, by name. */
  shapes: Map<string, number[]>;
  /** The model's weights, read one tensor at a time. */
  weights: AsyncIterable<[string, NamedWeight]>;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SLMError('BAD_CHECKPOINT', `Cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SLMError('BAD_CHECKPOINT', `${path} is not valid JSON.`);
  }
}

/** The safetensors files of a checkpoint directory (one file, or the shards of an index). */
async function weightFiles(directory: string): Promise<string[]> {
  const single = join(directory, 'model.safetensors');
  try {
    await access(single);
  } catch {
    const index = (await readJson(
      join(directory, 'model.safetensors.index.json'),
      'model.safetensors or the shard index',
    )) as {
      weight_map?: Record<string, string>;
    };
    if (typeof index.weight_map !== 'object' || index.weight_map === null) {
      throw new SLMError('BAD_CHECKPOINT', `${directory}/model.safetensors.index.json has no weight_map.`);
    }
    return [...new Set(Object.values(index.weight_map))].map((file) => join(directory, file));
  }
  return [single];
}

async function* streamFiles(files: Map<string, Set<string>>): AsyncGenerator<[string, NamedWeight]> {
  for (const [file, names] of files) yield* readSafetensors(file, names);
}

/**
 * Opens a Hugging Face Llama directory (`config.json` + `model.safetensors` or sharded
 * `model.safetensors.index.json`; F32, F16 or BF16) for `LlamaModel.load`: the configuration, every
 * tensor's shape from the file headers, and a stream of the model's weights (extra tensors such as
 * `rotary_emb.inv_freq` are left out).
 *
 * @param directory - the checkpoint directory
 * @throws {@link SLMError} `BAD_CONFIG`, `BAD_CHECKPOINT` (missing file, corrupt header)
 */
export async function readLlamaCheckpoint(directory: string): Promise<CheckpointContents> {
  const config = validateLlamaConfig(await readJson(join(directory, 'config.json'), 'config'));
  const located = new Map<string, { file: string; entry: SafetensorsEntry }>();
  for (const file of await weightFiles(directory)) {
    for (const entry of (await readSafetensorsHeader(file)).entries.values())
      located.set(entry.name, { file, entry });
  }
  const byFile = new Map<string, Set<string>>();
  for (const { name } of parameterTable(config)) {
    const place = located.get(name);
    if (place === undefined) continue; // reported by fromWeightStream, with the expected shape
    if (!byFile.has(place.file)) byFile.set(place.file, new Set());
    byFile.get(place.file)!.add(name);
  }
  const shapes = new Map([...located].map(([name, { entry }]) => [name, entry.shape]));
  return { config, shapes, weights: streamFiles(byFile) };
}

/** `config.json` contents for a configuration, as Hugging Face transformers writes it. */
export function huggingFaceConfig(config: LlamaConfig, dtype: 'F32' | 'BF16'): Record<string, unknown> {
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
    {
      dtype,
    },
  );
  const json = Buffer.from(`${JSON.stringify(huggingFaceConfig(model.config, dtype), null, 2)}\n`);
  await writeFileAtomic(join(directory, 'config.json'), (handle) => writeAll(handle, json, 0));
}
