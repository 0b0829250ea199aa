import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFloats, encodeFloats, floatBitsToBfloat16, halfToFloat } from '../../src/io/dtypes.js';
import {
  AdamW,
  LLAMA_PRESETS,
  type LlamaConfig,
  LlamaModel,
  type LlamaPresetName,
} from '../../src/model/index.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/model/safetensors.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';

let directory: string;
beforeAll(async () => {
  await activateBackend(testBackends[0]!);
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-checkpoint-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** Logits of a fixed sequence, as plain numbers. */
async function logitsOf(model: LlamaModel): Promise<number[]> {
  const ids = tf.tensor2d([[5, 1, 250, 9, 0, 33]], [1, 6], 'int32');
  const logits = model.forward(ids);
  const values = Array.from(await logits.data());
  tf.dispose([ids, logits]);
  return values;
}

/** The bits of a float32. */
const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;

describe('checkpoints', () => {
  it('save → load gives identical logits (F32) and a Hugging Face config.json', async () => {
    const model = LlamaModel.create('nano', { seed: 4 });
    const path = join(directory, 'f32');
    await model.save(path);
    const loaded = await LlamaModel.load(path);
    expect(await logitsOf(loaded)).toEqual(await logitsOf(model));
    const config = JSON.parse(await readFile(join(path, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: 32,
      torch_dtype: 'float32',
    });
    const header = await readSafetensorsHeader(join(path, 'model.safetensors'));
    expect(header.metadata.format).toBe('pt');
    expect(header.entries.get('model.layers.1.self_attn.k_proj.weight')?.shape).toEqual([16, 32]);
    model.dispose();
    loaded.dispose();
  });

  /** Logits of a model saved from `config`, loaded with and without `{ inference: true }`, before and after one update. */
  async function loadedAndTrained(config: LlamaPresetName | LlamaConfig, name: string, exact = true) {
    const model = LlamaModel.create(config, { seed: 5 });
    const path = join(directory, name);
    await model.save(path);
    model.dispose();
    const trained = async (options: { inference?: boolean }) => {
      const loaded = await LlamaModel.load(path, options);
      const logits = await logitsOf(loaded);
      const optimizer = new AdamW({ learningRate: 0.01 });
      const weights = loaded.trainableVariables();
      optimizer.applyScaledGradients(
        Object.fromEntries(weights.map((w, i) => [w.name, tf.fill(w.shape, 0.01 * (i + 1))])),
        0.5,
      );
      const after = await logitsOf(loaded);
      optimizer.dispose();
      loaded.dispose();
      return { logits, after };
    };
    const plain = await trained({});
    const inference = await trained({ inference: true });
    // webgpu's split-K products add in any order (atomics): equal within rounding there
    const same = (a: number[], b: number[]) =>
      exact ? expect(a).toEqual(b) : expectAllClose(a, b, { abs: 1e-5, rel: 1e-5 });
    same(inference.logits, plain.logits);
    same(inference.after, plain.after);
    expect(inference.after).not.toEqual(inference.logits);
  }

  it.each(testBackends)(
    'load with { inference: true } gives the same logits, and the model still trains the same, on $name',
    async (backend) => {
      await activateBackend(backend);
      await loadedAndTrained('nano', `inference-${backend.name}`);
    },
  );

  it.each(testBackends)(
    'so does a model with 36 MB weights (arrays TensorFlow adopts on tensorflow; views into larger buffers elsewhere), on $name',
    async (backend) => {
      await activateBackend(backend);
      const wide = {
        ...LLAMA_PRESETS.nano,
        hidden_size: 2048,
        num_hidden_layers: 1,
        num_attention_heads: 16,
        num_key_value_heads: 4,
        vocab_size: 4400, // embedding and output layer 4400 × 2048 floats, 36 MB each
      };
      await loadedAndTrained(wide, `inference-wide-${backend.name}`, backend.backend !== 'webgpu');
    },
    240_000, // about 45 s on software Vulkan
  );

  it('BF16 save → load matches within bfloat16 rounding', async () => {
    const model = LlamaModel.create('nano', { seed: 6 });
    const path = join(directory, 'bf16');
    await model.save(path, { dtype: 'BF16' });
    const loaded = await LlamaModel.load(path);
    const original = await model.exportWeights();
    for (const [name, weight] of await loaded.exportWeights()) {
      const want = original.get(name)!.data;
      weight.data.forEach((v, i) => {
        expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(Math.abs(want[i]!) * 2 ** -8);
      });
    }
    model.dispose();
    loaded.dispose();
  });

  it('fromWeightStream takes weights in any order, skips extra names, and frees what it made on a missing or repeated weight', async () => {
    const model = LlamaModel.create('nano', { seed: 6 });
    const weights = await model.exportWeights();
    const shapes = new Map([...weights].map(([name, { shape }]) => [name, shape]));
    async function* stream(entries: [string, { shape: number[]; data: Float32Array }][]) {
      yield* entries;
    }
    const reversed = [...weights].reverse();
    const extra: [string, { shape: number[]; data: Float32Array }] = [
      'model.extra.weight',
      { shape: [2], data: new Float32Array(2) },
    ];
    const expected = await logitsOf(model); // its position tables made before counting
    const before = tf.memory().numTensors;
    for (const inference of [false, true]) {
      const streamed = await LlamaModel.fromWeightStream('nano', shapes, stream([extra, ...reversed]), {
        inference,
      });
      expect(await logitsOf(streamed)).toEqual(expected);
      streamed.dispose();
    }
    await expect(
      LlamaModel.fromWeightStream('nano', shapes, stream(reversed.slice(1))),
    ).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: `Checkpoint stream ended without '${reversed[0]![0]}'.`,
    });
    await expect(
      LlamaModel.fromWeightStream('nano', shapes, stream([...reversed, reversed[3]!])),
    ).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: `Checkpoint stream holds '${reversed[3]![0]}' more than once.`,
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('loads sharded checkpoints, ignores extra tensors, and reports missing or mis-shaped ones by name', async () => {
    const model = LlamaModel.create('nano', { seed: 8 });
    const weights = await model.exportWeights();
    const path = join(directory, 'sharded');
    await model.save(path);
    const names = [...weights.keys()];
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [index, shard] of shards.entries()) {
      const file = `model-0000${index + 1}-of-00002.safetensors`;
      const specs = shard.map((name) => ({ name, shape: weights.get(name)!.shape }));
      if (index === 1) specs.push({ name: 'model.layers.0.self_attn.rotary_emb.inv_freq', shape: [4] });
      await writeSafetensors(
        join(path, file),
        specs,
        async (name) => weights.get(name)?.data ?? new Float32Array(4),
      );
      for (const name of shard) weightMap[name] = file;
    }
    await rm(join(path, 'model.safetensors'));
    await writeFile(
      join(path, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const loaded = await LlamaModel.load(path);
    expect(await logitsOf(loaded)).toEqual(await logitsOf(model));
    loaded.dispose();

    const broken = join(directory, 'broken');
    await model.save(broken);
    const specs = names
      .filter((n) => n !== 'model.norm.weight')
      .map((name) => ({ name, shape: weights.get(name)!.shape }));
    await writeSafetensors(join(broken, 'model.safetensors'), specs, async (name) => weights.get(name)!.data);
    await expect(LlamaModel.load(broken)).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /missing tensor 'model.norm.weight'/,
    });
    specs.push({ name: 'model.norm.weight', shape: [31] });
    await writeSafetensors(join(broken, 'model.safetensors'), specs, async (name) =>
      name === 'model.norm.weight' ? new Float32Array(31) : weights.get(name)!.data,
    );
    await expect(LlamaModel.load(broken)).rejects.toMatchObject({
      message: /'model.norm.weight' has shape \[31\], expected \[32\]/,
    });
    model.dispose();
  });

  it('detects truncated and corrupted files', async () => {
    const path = join(directory, 'w.safetensors');
    await writeSafetensors(
      path,
      [{ name: 'w', shape: [2, 3] }],
      async () => new Float32Array([1, 2, 3, 4, 5, 6]),
    );
    const bytes = await readFile(path);
    const read = async () => {
      const out = [];
      for await (const entry of readSafetensors(path)) out.push(entry);
      return out;
    };
    expect((await read())[0]![1].data).toEqual(new Float32Array([1, 2, 3, 4, 5, 6]));
    await writeFile(path, bytes.subarray(0, bytes.length - 4));
    await expect(read()).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /outside the .* data bytes/,
    });
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 0x40;
    await writeFile(path, flipped);
    await expect(read()).rejects.toMatchObject({ code: 'BAD_CHECKPOINT', message: /checksum/ });
    const twins = join(directory, 'twins.safetensors'); // two tensors of one shape, offsets swapped
    await writeSafetensors(
      twins,
      [
        { name: 'a', shape: [2] },
        { name: 'b', shape: [2] },
      ],
      async (name) => (name === 'a' ? new Float32Array([1, 2]) : new Float32Array([3, 4])),
    );
    const original = await readFile(twins);
    const headerLength = Number(original.readBigUInt64LE(0));
    const swapped = original
      .toString('latin1', 8, 8 + headerLength)
      .replace('"data_offsets":[0,8]', '"data_offsets":[X]')
      .replace('"data_offsets":[8,16]', '"data_offsets":[0,8]')
      .replace('"data_offsets":[X]', '"data_offsets":[8,16]');
    await writeFile(
      twins,
      Buffer.concat([
        original.subarray(0, 8),
        Buffer.from(swapped, 'latin1'),
        original.subarray(8 + headerLength),
      ]),
    );
    await expect(readSafetensorsHeader(twins)).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /twins.safetensors: the tensor list or metadata differs from what was recorded at save/,
    });
    await writeFile(path, Buffer.from('not a checkpoint at all'));
    await expect(read()).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /is this a safetensors file/,
    });
  });

  it('load verifies the data checksum, the tensor list and the saved config before trusting config.json', async () => {
    const model = LlamaModel.create('nano', { seed: 9 });
    const path = join(directory, 'guarded');
    await model.save(path);
    model.dispose();
    const weights = await readFile(join(path, 'model.safetensors'));
    const config = JSON.parse(await readFile(join(path, 'config.json'), 'utf8'));
    const flipped = Buffer.from(weights);
    flipped[flipped.length - 100]! ^= 0x01; // one bit of one weight
    await writeFile(join(path, 'model.safetensors'), flipped);
    await expect(LlamaModel.load(path)).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /model.safetensors: data checksum [0-9a-f]{8} differs from the recorded/,
    });
    await writeFile(join(path, 'model.safetensors'), weights);
    const withConfig = async (changes: object) => {
      await writeFile(join(path, 'config.json'), JSON.stringify({ ...config, ...changes }));
      return LlamaModel.load(path);
    };
    await expect(withConfig({ num_hidden_layers: 1e12 })).rejects.toMatchObject({
      code: 'BAD_CONFIG',
      message:
        /config.json: LlamaConfig field `num_hidden_layers` is 1000000000000; expected an integer in \[1, 1024\]/,
    });
    await expect(withConfig({ num_hidden_layers: 1 })).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /holds tensor 'model.layers.1.[a-z_.]+', which config.json does not use/,
    });
    await expect(withConfig({ rms_norm_eps: 0.5 })).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /has rms_norm_eps 0.5, but the weights were saved with 0.00001/,
    });
    const loaded = await withConfig({ architectures: ['Other'] }); // a field the model does not use
    expect(loaded.config).toEqual(LLAMA_PRESETS.nano);
    loaded.dispose();
  });

  it('reads F16 tensors from a file written by another tool', async () => {
    const path = join(directory, 'f16.safetensors');
    const header = Buffer.from(JSON.stringify({ h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] } }));
    const data = Buffer.alloc(8);
    [0x3c00, 0xc000, 0x3800, 0x0001].forEach((half, i) => {
      data.writeUInt16LE(half, 2 * i);
    });
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    await writeFile(path, Buffer.concat([length, header, data]));
    const tensors = [];
    for await (const entry of readSafetensors(path)) tensors.push(entry);
    expect(tensors).toHaveLength(1);
    expect(tensors[0]![1].shape).toEqual([2, 2]);
    expect(Array.from(tensors[0]![1].data)).toEqual([1, -2, 0.5, Math.fround(2 ** -24)]);
  });

  it('converts F16 and BF16 exactly', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(floatBitsToBfloat16(bits(1))).toBe(0x3f80);
    expect(floatBitsToBfloat16(bits(1 + 2 ** -8))).toBe(0x3f80); // tie → even
    expect(floatBitsToBfloat16(bits(1 + 3 * 2 ** -8))).toBe(0x3f82); // tie → even (up)
    expect(floatBitsToBfloat16(bits(Number.NaN)) & 0x7fc0).toBe(0x7fc0);
  });

  it('encodes and decodes F32 and BF16 bytes as a DataView reads them, at any byte offset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true }), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 0, max: 3 }),
        (numbers, offset) => {
          const values = Float32Array.from(numbers);
          const f32 = encodeFloats(values, 'F32');
          const bf16 = encodeFloats(values, 'BF16');
          const f32View = new DataView(f32.buffer, f32.byteOffset);
          const bf16View = new DataView(bf16.buffer, bf16.byteOffset);
          values.forEach((value, i) => {
            expect(f32View.getFloat32(4 * i, true)).toBe(value);
            expect(bf16View.getUint16(2 * i, true)).toBe(floatBitsToBfloat16(bits(value)));
          });
          // Bytes at an odd place in a larger buffer (as a file read may hand them over).
          const shifted = (bytes: Uint8Array) => {
            const buffer = new Uint8Array(bytes.length + offset);
            buffer.set(bytes, offset);
            return buffer.subarray(offset);
          };
          expect(decodeFloats(shifted(f32), 'F32')).toEqual(values);
          const widened = decodeFloats(shifted(bf16), 'BF16');
          widened.forEach((value, i) => {
            expect(bits(value)).toBe((bf16View.getUint16(2 * i, true) << 16) >>> 0);
          });
        },
      ),
    );
  });
});

describe('presets', () => {
  it('nano is a GQA model under a million parameters', () => {
    const model = LlamaModel.create('nano');
    expect(model.parameterCount()).toBe(35_168);
    expect(LLAMA_PRESETS.nano.num_attention_heads / LLAMA_PRESETS.nano.num_key_value_heads).toBe(2);
    model.dispose();
  });
});
