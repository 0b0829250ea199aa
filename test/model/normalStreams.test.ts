import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { normalSamples } from '../../src/model/normalInit.js';
import {
  type NormalJob,
  type NormalSampler,
  normalPieces,
  pieceRows,
  waitForCount,
} from '../../src/model/normalStreams.js';
import { fillZiggurat, zigguratSimd } from '../../src/model/ziggurat.js';
import { runUnderTsx, sourcePath } from '../helpers/cli.js';

/** The first and last few values and a checksum of all of an array's bits. */
function digest(values: Float32Array): number[] {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let hash = 0;
  for (const word of bits) hash = (Math.imul(hash, 31) + word) | 0;
  return [...values.subarray(0, 3), ...values.subarray(-3), hash, values.length];
}

/** What normalPieces yields, as [job, index, pieces, digest], each piece read before the next is drawn. */
function drawnPieces(jobs: NormalJob[], stdDev: number, sampler: NormalSampler, threads: number) {
  return Array.from(normalPieces(jobs, stdDev, { sampler, threads }), (piece) => {
    expect(piece.values.byteOffset % 8, 'never 8-byte aligned (TensorFlow copies it)').toBe(4);
    return [piece.job, piece.index, piece.pieces, digest(piece.values)];
  });
}

describe('pieceRows', () => {
  it('cuts a ziggurat job into the fewest pieces of whole rows, at most 2²⁰ samples each, that divide it', () => {
    expect(pieceRows({ rows: 32000, cols: 2048 }, 'ziggurat')).toBe(500); // TinyLlama's embedding
    expect(pieceRows({ rows: 2048, cols: 5632 }, 'ziggurat')).toBe(128);
    expect(pieceRows({ rows: 2048, cols: 256 }, 'ziggurat')).toBe(2048); // one piece
    expect(pieceRows({ rows: 2 * 1_000_003, cols: 1 }, 'ziggurat')).toBe(1_000_003); // a prime factor
    expect(pieceRows({ rows: 3, cols: 5_000_000 }, 'ziggurat')).toBe(1); // a row above 2²⁰ samples
    expect(pieceRows({ rows: 32000, cols: 2048 }, 'tfjs')).toBe(32000); // one sequential stream
  });
});

describe('normalPieces', () => {
  it("yields normalSamples for every job with the 'tfjs' sampler, one piece each, in order, drawn on one thread or several", () => {
    // 17.5 M samples in all: above the size where worker threads start.
    const jobs = [
      [3000, 2000],
      [1, 1],
      [4500, 1000],
      [2_000_001, 1],
      [1000, 5000],
      [7, 1],
    ].map(([rows, cols], i) => ({ rows: rows!, cols: cols!, seed: 101 + i }));
    const expected = jobs.map((job, i) => [
      i,
      0,
      1,
      digest(normalSamples(job.rows * job.cols, 0.5, job.seed)),
    ]);
    for (const threads of [1, 2, 3])
      expect(drawnPieces(jobs, 0.5, 'tfjs', threads), `${threads} threads`).toEqual(expected);
  }, 60_000);

  it("yields the ziggurat's pieces, each fillZiggurat of the job's seed and the piece's number, the same on one thread or several", () => {
    // 8-9 M samples a job, in 8-10 pieces of 0.9-1 M: more than the 4 a thread's ring holds.
    const jobs = [
      [3000, 3000],
      [1, 3],
      [4000, 2000],
    ].map(([rows, cols], i) => ({ rows: rows!, cols: cols!, seed: 7 + i }));
    const expected = jobs.flatMap((job, i) => {
      const rows = pieceRows(job, 'ziggurat');
      return Array.from({ length: job.rows / rows }, (_, piece) => {
        const values = new Float32Array(rows * job.cols);
        fillZiggurat(values, 2, job.seed, zigguratSimd(), piece);
        return [i, piece, job.rows / rows, digest(values)];
      });
    });
    expect(expected.length).toBe(10 + 1 + 8); // 300 and 500 rows a piece
    for (const threads of [1, 2, 3])
      expect(drawnPieces(jobs, 2, 'ziggurat', threads), `${threads} threads`).toEqual(expected);
  }, 60_000);

  it('runs from source under tsx, whose esbuild keeps names (no helper the workers lack)', () => {
    const jobs = [
      { rows: 3000, cols: 3000, seed: 3 },
      { rows: 8, cols: 1_000_000, seed: 4 },
    ];
    const output = runUnderTsx(`
      import { normalPieces } from ${JSON.stringify(sourcePath('src/model/normalStreams.ts'))};
      const starts = [];
      for (const sampler of ['tfjs', 'ziggurat'])
        for (const { values } of normalPieces(${JSON.stringify(jobs)}, 1, { sampler, threads: 2 }))
          starts.push(values.subarray(0, 4).join());
      console.log(JSON.stringify(starts));`);
    const expected: string[] = [];
    for (const sampler of ['tfjs', 'ziggurat'] as const)
      for (const { values } of normalPieces(jobs, 1, { sampler, threads: 1 }))
        expected.push(values.subarray(0, 4).join()); // each read before the next is drawn
    expect(JSON.parse(output)).toEqual(expected);
  }, 60_000);

  it('stops its workers when the consumer stops early, and draws small jobs on the calling thread', () => {
    const big = [3, 4, 5].map((seed) => ({ rows: 3000, cols: 3000, seed }));
    const stream = normalPieces(big, 1, { threads: 2 });
    expect(digest(stream.next().value!.values)).toEqual(digest(normalSamples(9_000_000, 1, 3)));
    expect(stream.return(undefined).done).toBe(true);
    const small = [
      { rows: 2, cols: 5, seed: 9 },
      { rows: 3, cols: 1, seed: 2 },
    ];
    const drawn = Array.from(normalPieces(small, 2, { threads: 4 }), ({ values }) => Array.from(values));
    expect(drawn).toEqual(small.map((job) => Array.from(normalSamples(job.rows * job.cols, 2, job.seed))));
  }, 60_000);
});

describe('waitForCount', () => {
  it('returns only once the count is reached, however many notifies come before (late ones included), or at a failure', async () => {
    // counts[0]: the count waited on; counts[1]: notifies sent below it; counts[2]: 0, to sleep on.
    const counts = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const counts = new Int32Array(workerData);
       for (let i = 0; i < 20; i++) {
         Atomics.wait(counts, 2, 0, 2); // sleeps 2 ms
         if (i % 5 === 4) Atomics.add(counts, 0, 1); // counts 1, 2, 3, 4: below the 5 waited for
         Atomics.add(counts, 1, 1);
         Atomics.notify(counts, 0);
       }
       Atomics.add(counts, 0, 1);
       Atomics.notify(counts, 0);`,
      { eval: true, workerData: counts.buffer },
    );
    expect(waitForCount(counts, 0, 5)).toBe(5);
    expect(Atomics.load(counts, 1)).toBe(20);
    expect(waitForCount(counts, 0, 3)).toBe(5); // reached already
    Atomics.store(counts, 0, -1);
    expect(waitForCount(counts, 0, 9)).toBe(-1);
    await worker.terminate();
  });
});
