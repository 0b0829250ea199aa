import * as fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFloats, encodeFloats } from '../../src/io/dtypes.js';
import { writeTensors } from '../../src/model/parallelWrite.js';
import { readSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { runUnderTsx, sourcePath } from '../helpers/cli.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-parallel-write-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** Tensors of awkward sizes with values that round both ways to bfloat16, NaN and infinities among them. */
function someTensors(seed: number, lengths: readonly number[]): Float32Array[] {
  return lengths.map((length, t) =>
    Float32Array.from({ length }, (_, i) =>
      i === 5 ? Number.NaN : i === 6 ? -Infinity : Math.sin(seed + t * 31 + i * 1.7) * 10 ** ((i % 7) - 3),
    ),
  );
}

describe('writeTensors', () => {
  it('writes what encodeFloats gives at each place, with the CRC-32s of the bytes and of the values they decode to, threads or not', async () => {
    let file = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('F32' as const, 'BF16' as const),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom(
          { threads: 1 },
          { threads: 2, alwaysParallel: true },
          { threads: 3, alwaysParallel: true },
        ),
        async (dtype, lengths, seed, options) => {
          const tensors = someTensors(seed, lengths);
          const encoded = tensors.map((values) => encodeFloats(values, dtype));
          let position = 7; // an offset, as after a header
          const places = tensors.map((values, t) => {
            const place = { position, length: values.length };
            position += encoded[t]!.length;
            return place;
          });
          const path = join(directory, `w${file++}`);
          const fd = fs.openSync(path, 'w');
          let results: Awaited<ReturnType<typeof writeTensors>>;
          try {
            results = await writeTensors(fd, places, dtype, async (t) => tensors[t]!, options);
          } finally {
            fs.closeSync(fd);
          }
          const bytes = await readFile(path);
          tensors.forEach((_, t) => {
            const stored = bytes.subarray(places[t]!.position, places[t]!.position + encoded[t]!.length);
            expect(Buffer.compare(stored, encoded[t]!), `tensor ${t}`).toBe(0);
            expect(results[t]!.crc).toBe(encoded[t]!.length === 0 ? 0 : crc32(encoded[t]!));
            const decoded = decodeFloats(encoded[t]!, dtype);
            expect(results[t]!.valuesCrc).toBe(
              decoded.length === 0 ? 0 : crc32(new Uint8Array(decoded.buffer)),
            );
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('passes on the first failure of a read, and stops its threads', async () => {
    const fd = fs.openSync(join(directory, 'failing'), 'w');
    try {
      const places = [0, 1, 2].map((t) => ({ position: 400 * t, length: 100 }));
      const read = async (t: number) => {
        if (t === 2) throw new Error('no third tensor');
        return new Float32Array(100);
      };
      await expect(
        writeTensors(fd, places, 'BF16', read, { threads: 2, alwaysParallel: true }),
      ).rejects.toThrow('no third tensor');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('runs from source under tsx, whose esbuild keeps names (no helper the workers lack)', async () => {
    const path = join(directory, 'tsx');
    const output = runUnderTsx(`
      import * as fs from 'node:fs';
      import { writeTensors } from ${JSON.stringify(sourcePath('src/model/parallelWrite.ts'))};
      const fd = fs.openSync(${JSON.stringify(path)}, 'w');
      const places = [{ position: 0, length: 3 }, { position: 6, length: 2 }];
      const values = [new Float32Array([1, 2.5, -3]), new Float32Array([0.1, 7])];
      const results = await writeTensors(fd, places, 'BF16', async (t) => values[t], { threads: 2, alwaysParallel: true });
      fs.closeSync(fd);
      console.log(JSON.stringify(results));`);
    const bytes = await readFile(path);
    expect(
      Buffer.compare(
        bytes,
        Buffer.concat([
          encodeFloats(new Float32Array([1, 2.5, -3]), 'BF16'),
          encodeFloats(new Float32Array([0.1, 7]), 'BF16'),
        ]),
      ),
    ).toBe(0);
    expect((JSON.parse(output) as { crc: number }[]).map(({ crc }) => crc)).toEqual([
      crc32(bytes.subarray(0, 6)),
      crc32(bytes.subarray(6)),
    ]);
  });
});

describe('writeSafetensors in worker threads', () => {
  it('writes the same file as on one thread, which reads back', async () => {
    const tensors = someTensors(3, [1000, 17, 4096, 1]);
    const specs = tensors.map((values, t) => ({ name: `t${t}`, shape: [values.length] }));
    for (const dtype of ['F32', 'BF16'] as const) {
      const files = [];
      for (const options of [{ threads: 1 }, { threads: 2, alwaysParallel: true }]) {
        const path = join(directory, `st-${dtype}-${options.threads}.safetensors`);
        await writeSafetensors(path, specs, async (name) => tensors[Number(name.slice(1))]!, {
          dtype,
          ...options,
        });
        files.push(await readFile(path));
        const read = new Map<string, Float32Array>();
        for await (const [name, { data }] of readSafetensors(path)) read.set(name, data);
        for (const [t, values] of tensors.entries())
          expect(read.get(`t${t}`)).toEqual(decodeFloats(encodeFloats(values, dtype), dtype));
      }
      expect(Buffer.compare(files[0]!, files[1]!), dtype).toBe(0);
    }
  });
});
