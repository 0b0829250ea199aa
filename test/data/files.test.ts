import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  byteTokenizer,
  mergeScoreParts,
  readWindows,
  ScoreFile,
  type ScoreFilePlan,
  ScoreFileWriter,
  TokenFile,
  TokenFileWriter,
  windowCount,
  windowOrder,
  windowSampler,
} from '../../src/data/index.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-data-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

async function writeTokens(path: string, documents: number[][], vocabSize = 259) {
  const writer = await TokenFileWriter.create(path, { vocabSize, eosId: 2, tokenizer: 'test' });
  for (const document of documents) await writer.append(document);
  return writer.close();
}

describe('token files', () => {
  it('round-trip documents with their separators, uint16 and uint32 (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(259, 70_000),
        fc.array(fc.array(fc.nat(258), { maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        async (vocabSize, documents) => {
          const path = join(directory, `round-${run++}.tok`);
          const info = await writeTokens(path, documents, vocabSize);
          const file = await TokenFile.open(path);
          expect(file.info).toEqual(info);
          expect(file.info.bytesPerToken).toBe(vocabSize <= 65536 ? 2 : 4);
          const expected = documents.flatMap((document) => [...document, 2]);
          expect(Array.from(await file.read(0, expected.length + 5))).toEqual(expected);
          expect(Array.from(await file.read(1, 2))).toEqual(expected.slice(1, 3));
          await file.verify();
          await file.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('detects a flipped token, a corrupt header, a cut tail and a wrong file, naming the file', async () => {
    const path = join(directory, 'corrupt.tok');
    await writeTokens(path, [byteTokenizer().encode('hello world')]);
    const bytes = await readFile(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3]! ^= 1;
    await writeFile(path, flipped);
    const file = await TokenFile.open(path);
    await expect(file.verify()).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /corrupt.tok: token checksum/,
    });
    await file.close();
    const badHeader = Buffer.from(bytes);
    badHeader[20]! ^= 1;
    await writeFile(path, badHeader);
    await expect(TokenFile.open(path)).rejects.toMatchObject({ message: /header checksum mismatch/ });
    await writeFile(path, bytes.subarray(0, bytes.length - 2));
    await expect(TokenFile.open(path)).rejects.toMatchObject({ message: /truncated/ });
    await writeFile(path, Buffer.from('{"not": "tokens"}'.padEnd(200)));
    await expect(TokenFile.open(path)).rejects.toMatchObject({
      code: 'BAD_FILE',
      message: /corrupt.tok is JSON or JSONL text, not a token file \(written by rho-slm prepare\)\.$/,
    });
  });

  it('never leaves a partial file at the target path', async () => {
    const path = join(directory, 'aborted.tok');
    const writer = await TokenFileWriter.create(path, { vocabSize: 259, eosId: 2, tokenizer: 'test' });
    await writer.append([5, 6]);
    await expect(writer.append([999])).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
    await writer.abort();
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});

describe('windows', () => {
  it('cuts T + 1 token windows overlapping by one and shuffles them by seed', async () => {
    const path = join(directory, 'windows.tok');
    await writeTokens(path, [Array.from({ length: 20 }, (_, i) => 3 + i)]); // 21 tokens with EOS
    const file = await TokenFile.open(path);
    expect(windowCount(file.info.tokenCount, 4)).toBe(5);
    const batch = await readWindows(file, [1, 3], 4);
    expect(Array.from(batch.inputs)).toEqual([7, 8, 9, 10, 15, 16, 17, 18]);
    expect(Array.from(batch.targets)).toEqual([8, 9, 10, 11, 16, 17, 18, 19]);
    await file.close();
    const order = windowOrder(50, 3, 1);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(windowOrder(50, 3, 1))).toEqual(Array.from(order));
    expect(Array.from(windowOrder(50, 3, 2))).not.toEqual(Array.from(order));
  });

  it('samples position i from epoch floor(i / count) of the window order', () => {
    const windowAt = windowSampler(50, 3);
    const epochs = [0, 1, 2].map((epoch) => windowOrder(50, 3, epoch));
    for (const position of [0, 49, 50, 77, 149, 3]) {
      expect(windowAt(position)).toBe(epochs[Math.floor(position / 50)]![position % 50]);
    }
  });
});

describe('score files', () => {
  const plan = (overrides: Partial<ScoreFilePlan> = {}): ScoreFilePlan => ({
    bytesPerScore: 4,
    seqLen: 3,
    windowCount: 5,
    firstWindow: 0,
    partWindows: 5,
    tokenFileCrc: 1234,
    tokenCount: 16,
    model: 'ref-model',
    ...overrides,
  });
  const scores = Float32Array.from({ length: 15 }, (_, i) => Math.fround(0.1 * i + 0.05));

  it('round-trip any part layout (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seqLen: fc.integer({ min: 1, max: 9 }),
          windows: fc.integer({ min: 1, max: 12 }),
          first: fc.nat(5),
          half: fc.boolean(),
        }),
        async ({ seqLen, windows, first, half }) => {
          const values = Float32Array.from({ length: seqLen * windows }, (_, i) =>
            Math.fround(Math.sin(i + run) * 7),
          );
          const path = join(directory, `prop-${run++}.sc`);
          const part = plan({
            seqLen,
            windowCount: first + windows,
            tokenCount: (first + windows) * seqLen + 1,
            firstWindow: first,
            partWindows: windows,
            bytesPerScore: half ? 2 : 4,
          });
          const writer = await ScoreFileWriter.open(path, part);
          await writer.append(values);
          const info = await writer.close();
          const file = await ScoreFile.open(path);
          expect(file.info).toEqual(info);
          await file.verify();
          const read = await file.read(first, windows);
          read.forEach((value, i) => {
            expect(Math.abs(value - values[i]!)).toBeLessThanOrEqual(
              half ? Math.abs(values[i]!) * 2 ** -11 + 2 ** -24 : 0,
            );
          });
          await expect(file.read(first + windows, 1)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
          await file.close();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('detect a flipped score and a cut tail, naming the file', async () => {
    const path = join(directory, 'flip.sc');
    const writer = await ScoreFileWriter.open(path, plan());
    await writer.append(scores);
    await writer.close();
    const bytes = await readFile(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 2]! ^= 0x10;
    await writeFile(path, flipped);
    const file = await ScoreFile.open(path);
    await expect(file.verify()).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /flip.sc: score checksum/,
    });
    await file.close();
    await writeFile(path, bytes.subarray(0, bytes.length - 1));
    await expect(ScoreFile.open(path)).rejects.toMatchObject({ message: /flip.sc: .*truncated/ });
  });

  it('round-trip float32 exactly and float16 within half-precision rounding', async () => {
    for (const bytesPerScore of [4, 2] as const) {
      const path = join(directory, `scores-${bytesPerScore}.sc`);
      const writer = await ScoreFileWriter.open(path, plan({ bytesPerScore }));
      await writer.append(scores.subarray(0, 6));
      await writer.append(scores.subarray(6));
      await writer.close();
      const file = await ScoreFile.open(path);
      await file.verify();
      const read = await file.read(1, 3);
      read.forEach((value, i) => {
        expect(Math.abs(value - scores[3 + i]!)).toBeLessThanOrEqual(
          bytesPerScore === 4 ? 0 : Math.abs(scores[3 + i]!) * 2 ** -11,
        );
      });
      await file.close();
    }
  });

  it('resumes after a crash mid-window and ends byte-identical to an uninterrupted run', async () => {
    const whole = join(directory, 'whole.sc');
    const uninterrupted = await ScoreFileWriter.open(whole, plan());
    await uninterrupted.append(scores);
    await uninterrupted.close();

    const crashed = join(directory, 'crashed.sc');
    const first = await ScoreFileWriter.open(crashed, plan());
    await first.append(scores.subarray(0, 9)); // 3 windows
    await first.release(); // killed here…
    await appendFile(`${crashed}.partial`, Buffer.from([1, 2, 3, 4, 5])); // …in the middle of writing window 4
    const resumed = await ScoreFileWriter.open(crashed, plan(), { resume: true, alignTo: 1 });
    expect(resumed.windowsWritten).toBe(3);
    await resumed.append(scores.subarray(9));
    await resumed.close();
    expect(await readFile(crashed)).toEqual(await readFile(whole));
    const fresh = await ScoreFileWriter.open(join(directory, 'other.sc'), plan(), { resume: true });
    expect(fresh.windowsWritten).toBe(0); // nothing to resume: starts at window 0
    await fresh.release();
    const stale = await ScoreFileWriter.open(join(directory, 'stale.sc'), plan());
    await stale.release();
    await expect(
      ScoreFileWriter.open(join(directory, 'stale.sc'), plan({ model: 'other' }), { resume: true }),
    ).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: /cannot resume: its model is ref-model, this run's is other/,
    });
  });

  it('merges shards into the same bytes as one run, and refuses gaps and mismatches', async () => {
    const parts = [join(directory, 'part0.sc'), join(directory, 'part1.sc')];
    const first = await ScoreFileWriter.open(parts[0]!, plan({ partWindows: 2 }));
    await first.append(scores.subarray(0, 6));
    await first.close();
    const second = await ScoreFileWriter.open(parts[1]!, plan({ firstWindow: 2, partWindows: 3 }));
    await second.append(scores.subarray(6));
    await second.close();
    const merged = join(directory, 'merged.sc');
    await mergeScoreParts([parts[1]!, parts[0]!], merged);
    expect(await readFile(merged)).toEqual(await readFile(join(directory, 'whole.sc')));
    await expect(mergeScoreParts([parts[1]!], join(directory, 'gap.sc'))).rejects.toMatchObject({
      message: /a part is missing/,
    });
  });
});

describe('checksums', () => {
  it('continue over empty chunks (Node 20 crc32 resets on an empty zero-length view)', async () => {
    const { continueCrc32 } = await import('../../src/io/checksum.js');
    const { crc32 } = await import('node:zlib');
    expect(continueCrc32(new Uint8Array(new ArrayBuffer(0)), 12345)).toBe(12345);
    expect(
      continueCrc32(
        Buffer.from([2, 0]),
        continueCrc32(new Uint8Array(0), continueCrc32(Buffer.from([2, 0]), 0)),
      ),
    ).toBe(crc32(Buffer.from([2, 0, 2, 0])));
  });
});
