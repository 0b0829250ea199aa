import * as fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { combineCrc32 } from '../../src/io/checksum.js';
import { decodeFloats, encodeFloats, floatToHalf, halfToFloatBits } from '../../src/io/dtypes.js';
import { readLlamaCheckpoint } from '../../src/model/checkpoint.js';
import { resolveLlamaConfig } from '../../src/model/config.js';
import { LlamaModel } from '../../src/model/index.js';
import { readTensor, readTensors, type TensorRead } from '../../src/model/parallelRead.js';
import { parameterTable } from '../../src/model/parameterTable.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { transposeInto } from '../../src/model/transpose.js';
import { fingerprintOf, modelFingerprint } from '../../src/pipeline/fingerprint.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { runUnderTsx, sourcePath } from '../helpers/cli.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-parallel-read-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** The float32 bits of `x`. */
const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

/** Little-endian bytes of `values` stored as `dtype`. */
function stored(values: Float32Array, dtype: 'F32' | 'BF16' | 'F16'): Uint8Array {
  if (dtype !== 'F16') return encodeFloats(values, dtype);
  const bytes = Buffer.alloc(values.length * 2);
  values.forEach((value, i) => {
    bytes.writeUInt16LE(floatToHalf(value), 2 * i);
  });
  return bytes;
}

/** A file of `prefix` junk bytes then `bytes`, and a read of them. */
async function fileWith(name: string, bytes: Uint8Array, prefix: number, read: Partial<TensorRead>) {
  const path = join(directory, name);
  await writeFile(path, Buffer.concat([Buffer.alloc(prefix, 0xa5), bytes]));
  return {
    path,
    start: prefix,
    end: prefix + bytes.length,
    dtype: 'F32',
    rows: 1,
    columns: 1,
    transpose: false,
    hashOnly: false,
    hash: true,
    hashValues: false,
    bufferBytes: 0,
    offsetBytes: 0,
    ...read,
  } as TensorRead;
}

describe('combineCrc32', () => {
  it('gives the CRC-32 of the concatenation from the parts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
        expect(combineCrc32(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
      }),
      { numRuns: 200 },
    );
    expect(combineCrc32(12345, 0, 0)).toBe(12345);
  });
});

describe('halfToFloatBits', () => {
  it('is exact for all 65536 halves (float64 reference), NaN payloads kept', () => {
    const value = new Float32Array(1);
    const bits = new Uint32Array(value.buffer);
    for (let half = 0; half < 65536; half++) {
      const sign = half & 0x8000 ? -1 : 1;
      const exponent = (half >>> 10) & 0x1f;
      const fraction = half & 0x3ff;
      bits[0] = halfToFloatBits(half);
      if (exponent === 0x1f && fraction !== 0) {
        expect(value[0]).toBeNaN();
        expect(bits[0]! & 0x7fffff).toBe(fraction << 13);
        continue;
      }
      const expected =
        exponent === 0
          ? sign * fraction * 2 ** -24
          : exponent === 0x1f
            ? sign * Number.POSITIVE_INFINITY
            : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
      expect(Object.is(value[0], expected), `half ${half.toString(16)}`).toBe(true);
    }
  });
});

describe('readTensor', () => {
  it('decodes and lays out as decodeFloats and transposeInto do, bit for bit, and hashes the stored bytes and the values', async () => {
    let file = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('F32' as const, 'BF16' as const, 'F16' as const),
        fc.integer({ min: 1, max: 150 }), // crosses 64-row bands
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        async (dtype, rows, columns, transpose, placement, seed, hashValues) => {
          const values = Float32Array.from(
            { length: rows * columns },
            (_, i) => Math.sin(seed + i * 7.3) * 10 ** ((i % 9) - 4),
          );
          const bytes = stored(values, dtype);
          const offsetBytes = 4 * placement;
          const read = await fileWith(`t${file++}`, bytes, 3 + (seed % 5), {
            dtype,
            rows,
            columns,
            transpose,
            hashValues,
            offsetBytes,
            bufferBytes: offsetBytes + 4 * rows * columns + 8,
          });
          const { crc, valuesCrc, buffer } = readTensor(read, fs, crc32, halfToFloatBits);
          expect(crc).toBe(crc32(bytes));
          const decoded = decodeFloats(bytes, dtype);
          expect(valuesCrc).toBe(hashValues ? crc32(new Uint8Array(decoded.buffer)) : 0);
          const expected = new Float32Array(decoded.length);
          if (transpose) transposeInto(decoded, rows, columns, expected);
          else expected.set(decoded);
          expect(buffer!.byteLength).toBe(read.bufferBytes);
          expect(bitsOf(new Float32Array(buffer!, offsetBytes, rows * columns))).toEqual(bitsOf(expected));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('only hashes when asked to, and names where a short file ends', async () => {
    const bytes = Uint8Array.from({ length: 3_000_001 }, (_, i) => (i * 131) % 251); // spans 1 MiB chunks
    const read = await fileWith('hashed', bytes, 10, { hashOnly: true, dtype: 'I8' as 'F32' });
    expect(readTensor(read, fs, crc32, halfToFloatBits)).toEqual({ crc: crc32(bytes), valuesCrc: 0 });
    expect(readTensor({ ...read, hash: false }, fs, crc32, halfToFloatBits)).toEqual({
      crc: 0,
      valuesCrc: 0,
    });
    const short = { ...read, end: read.end + 8 };
    expect(() => readTensor(short, fs, crc32, halfToFloatBits)).toThrow(
      `the file ends at byte ${read.end}, inside the tensor`,
    );
  });
});

describe('readTensors', () => {
  /** Reads of several tensors of one file, as checkpoint.ts makes them. */
  async function someReads(dtype: 'BF16' | 'F16' = 'BF16'): Promise<{
    reads: TensorRead[];
    expected: Float32Array[];
    valuesCrcs: number[];
  }> {
    const shapes = [
      [70, 33],
      [1, 100],
      [128, 64],
      [5, 3],
    ] as const;
    const parts = shapes.map(([rows, columns], t) =>
      Float32Array.from({ length: rows * columns }, (_, i) => Math.cos(t + i)),
    );
    const bytes = parts.map((values) => stored(values, dtype));
    const path = join(directory, `several-${dtype}`);
    await writeFile(path, Buffer.concat(bytes));
    let start = 0;
    const reads = shapes.map(([rows, columns], t) => {
      const read: TensorRead = {
        path,
        start,
        end: start + bytes[t]!.length,
        dtype,
        rows,
        columns,
        transpose: t % 2 === 0,
        hashOnly: t === 3,
        hash: true,
        hashValues: t < 2,
        bufferBytes: 4 * rows * columns + 4,
        offsetBytes: 4,
      };
      start = read.end;
      return read;
    });
    const decoded = bytes.map((part) => decodeFloats(part, dtype));
    const expected = reads.map((read, t) => {
      const out = new Float32Array(decoded[t]!.length);
      if (read.transpose) transposeInto(decoded[t]!, read.rows, read.columns, out);
      else out.set(decoded[t]!);
      return out;
    });
    const valuesCrcs = reads.map((read, t) =>
      read.hashValues ? crc32(new Uint8Array(decoded[t]!.buffer)) : 0,
    );
    return { reads, expected, valuesCrcs };
  }

  it.each(['BF16', 'F16'] as const)(
    'yields every %s read once, the same in worker threads as on this thread',
    async (dtype) => {
      const { reads, expected, valuesCrcs } = await someReads(dtype);
      for (const options of [{ threads: 1 }, { threads: 2, alwaysParallel: true }]) {
        const seen = new Map<number, { crc: number; valuesCrc: number; values?: Float32Array }>();
        for await (const [index, result] of readTensors(reads, options)) {
          expect(seen.has(index)).toBe(false);
          seen.set(index, result);
        }
        expect([...seen.keys()].sort()).toEqual([0, 1, 2, 3]);
        const file = fs.readFileSync(reads[0]!.path);
        reads.forEach((read, index) => {
          const result = seen.get(index)!;
          expect(result.crc).toBe(crc32(file.subarray(read.start, read.end)));
          expect(result.valuesCrc).toBe(valuesCrcs[index]);
          if (read.hashOnly) expect(result.values).toBeUndefined();
          else {
            expect(result.values!.byteOffset).toBe(4);
            expect(result.values).toEqual(expected[index]);
          }
        });
      }
    },
  );

  it('fails with BAD_CHECKPOINT naming the file when a thread cannot read, and stops its threads', async () => {
    const { reads } = await someReads();
    const broken = [...reads, { ...reads[0]!, start: reads[3]!.end, end: reads[3]!.end + reads[0]!.end }];
    for (const options of [{ threads: 1 }, { threads: 2, alwaysParallel: true }]) {
      const all = async () => {
        for await (const _ of readTensors(broken, options));
      };
      await expect(all()).rejects.toMatchObject({
        code: 'BAD_CHECKPOINT',
        message: expect.stringContaining(`${reads[0]!.path}: cannot read a tensor at byte ${reads[3]!.end}`),
      });
    }
  });

  it('runs from source under tsx, whose esbuild keeps names (no helper the workers lack)', async () => {
    const { reads, expected } = await someReads();
    const output = runUnderTsx(`
      import { readTensors } from ${JSON.stringify(sourcePath('src/model/parallelRead.ts'))};
      const reads = ${JSON.stringify(reads)};
      const out = [];
      for await (const [index, { values }] of readTensors(reads, { threads: 2, alwaysParallel: true }))
        if (values) out[index] = Array.from(values);
      console.log(JSON.stringify(out));`);
    const values = JSON.parse(output) as (number[] | null)[];
    expect(values[0]).toEqual(Array.from(expected[0]!));
    expect(values[2]).toEqual(Array.from(expected[2]!));
  });
});

describe('checkpoint weights through worker threads', () => {
  it('are those of the model saved, laid out as asked, and a corrupt file fails its data checksum', async () => {
    await activateBackend(testBackends[0]!);
    const model = LlamaModel.create('nano', { seed: 12 });
    const path = join(directory, 'nano');
    await model.save(path, { dtype: 'BF16' });
    const exported = await model.exportWeights();
    model.dispose();
    const layout = {
      transposed: (name: string) => name.endsWith('_proj.weight'),
      placement: (length: number) => ({ bufferBytes: 4 * length + 4, offsetBytes: 4 }),
    };
    const { weights } = await readLlamaCheckpoint(path);
    const read = new Map<string, Float32Array>();
    for await (const [name, values] of weights(layout, { threads: 2, alwaysParallel: true }))
      read.set(name, values);
    expect([...read.keys()].sort()).toEqual([...exported.keys()].sort());
    for (const [name, { shape, data }] of exported) {
      const rounded = decodeFloats(encodeFloats(data, 'BF16'), 'BF16');
      const expected = new Float32Array(rounded.length);
      if (layout.transposed(name)) transposeInto(rounded, shape[0]!, shape[1]!, expected);
      else expected.set(rounded);
      expect(read.get(name), name).toEqual(expected);
    }
    const file = join(path, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x10;
    fs.writeFileSync(file, bytes);
    const all = async () => {
      for await (const _ of (await readLlamaCheckpoint(path)).weights(layout, {
        threads: 2,
        alwaysParallel: true,
      }));
    };
    await expect(all()).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: expect.stringMatching(
        /model.safetensors: data checksum [0-9a-f]{8} differs from the recorded/,
      ),
    });
  });
});

describe("the weights' CRC-32 as read (onWeightsCrc)", () => {
  const layout = {
    transposed: (name: string) => name.endsWith('_proj.weight'),
    placement: (length: number) => ({ bufferBytes: 4 * length + 4, offsetBytes: 4 }),
  };

  /** What load and the reading threads report for the checkpoint in `path`, and the loaded model's fingerprint. */
  async function reported(path: string) {
    let fromLoad: number | undefined;
    const loaded = await LlamaModel.load(path, {
      inference: true,
      onWeightsCrc: (crc) => {
        fromLoad = crc;
      },
    });
    const fingerprint = await modelFingerprint(loaded);
    const parameters = loaded.parameterCount();
    loaded.dispose();
    let fromThreads: number | undefined;
    const { weights } = await readLlamaCheckpoint(path);
    const onWeightsCrc = (crc: number) => {
      fromThreads = crc;
    };
    for await (const _ of weights(layout, { threads: 2, alwaysParallel: true, onWeightsCrc }));
    return {
      fingerprint,
      fromLoad: fingerprintOf(parameters, fromLoad!),
      fromThreads: fingerprintOf(parameters, fromThreads!),
    };
  }

  it('is what modelFingerprint hashes of the loaded model: recorded at save (F32, BF16; tied or not) or hashed as read', async () => {
    await activateBackend(testBackends[0]!);
    for (const tied of [true, false]) {
      const config = { ...resolveLlamaConfig('nano'), tie_word_embeddings: tied };
      const model = LlamaModel.create(config, { seed: 5 });
      for (const dtype of ['F32', 'BF16'] as const) {
        // As save writes it: the values' CRC-32 is recorded and used.
        const saved = join(directory, `crc-${tied}-${dtype}`);
        await model.save(saved, { dtype });
        const recorded = await reported(saved);
        expect(recorded.fromLoad, `${dtype}, tied ${tied}`).toBe(recorded.fingerprint);
        expect(recorded.fromThreads).toBe(recorded.fingerprint);
        // The same weights in another order (as another tool may write them): hashed as read.
        const reordered = join(directory, `crc-${tied}-${dtype}-reordered`);
        await model.save(reordered, { dtype });
        const specs = parameterTable(config).reverse();
        await writeSafetensors(
          join(reordered, 'model.safetensors'),
          specs,
          async (name) => (await loadedWeights(saved)).get(name)!,
          { dtype },
        );
        const hashed = await reported(reordered);
        expect(hashed.fromLoad).toBe(recorded.fingerprint);
        expect(hashed.fromThreads).toBe(recorded.fingerprint);
      }
      model.dispose();
    }
  });
});

/** The weights of the checkpoint in `path` in Hugging Face layout, as loaded (cached per path). */
const weightsByPath = new Map<string, Map<string, Float32Array>>();
async function loadedWeights(path: string): Promise<Map<string, Float32Array>> {
  if (!weightsByPath.has(path)) {
    const model = await LlamaModel.load(path);
    const exported = await model.exportWeights();
    model.dispose();
    weightsByPath.set(path, new Map([...exported].map(([name, { data }]) => [name, data])));
  }
  return weightsByPath.get(path)!;
}
