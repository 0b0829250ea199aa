import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { normalSamples } from '../../src/model/normalInit.js';
import { normalStreams, waitWhile } from '../../src/model/normalStreams.js';
import { fillZiggurat, zigguratSimd } from '../../src/model/ziggurat.js';
import { runUnderTsx, sourcePath } from '../helpers/cli.js';

/** The first and last few values and a checksum of all of an array's bits. */
function digest(values: Float32Array): number[] {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let hash = 0;
  for (const word of bits) hash = (Math.imul(hash, 31) + word) | 0;
  return [...values.subarray(0, 3), ...values.subarray(-3), hash, values.length];
}

describe('normalStreams', () => {
  it('yields normalSamples for every job, in order, drawn on one thread or several', () => {
    // 17.5 M samples in all: above the size where worker threads start.
    const jobs = [6_000_000, 1, 4_500_000, 2_000_001, 5_000_000, 7].map((count, i) => ({
      count,
      seed: 101 + i,
    }));
    const expected = jobs.map((job) => digest(normalSamples(job.count, 0.5, job.seed)));
    for (const threads of [1, 2, 3]) {
      const seen = [...normalStreams(jobs, 0.5, { threads })].length;
      expect(seen).toBe(jobs.length);
      const drawn: number[][] = [];
      for (const values of normalStreams(jobs, 0.5, { threads })) {
        expect(values.byteOffset % 8, 'never 8-byte aligned (TensorFlow copies it)').toBe(4);
        drawn.push(digest(values)); // each read before the next
      }
      expect(drawn, `${threads} threads`).toEqual(expected);
    }
  }, 60_000);

  it('runs from source under tsx, whose esbuild keeps names (no helper the workers lack)', () => {
    const jobs = [9_000_000, 8_000_000].map((count, i) => ({ count, seed: 3 + i }));
    const output = runUnderTsx(`
      import { normalStreams } from ${JSON.stringify(sourcePath('src/model/normalStreams.ts'))};
      const sums = [];
      for (const sampler of ['tfjs', 'ziggurat'])
        for (const values of normalStreams(${JSON.stringify(jobs)}, 1, { sampler, threads: 2 }))
          sums.push(values.subarray(0, 4).join());
      console.log(JSON.stringify(sums));`);
    const expected: string[] = [];
    for (const sampler of ['tfjs', 'ziggurat'] as const)
      for (const values of normalStreams(jobs, 1, { sampler, threads: 1 }))
        expected.push(values.subarray(0, 4).join()); // each read before the next is drawn
    expect(JSON.parse(output)).toEqual(expected);
  }, 60_000);

  it('draws with the ziggurat sampler the same on one thread or several', () => {
    const jobs = [9_000_000, 3, 8_000_000].map((count, i) => ({ count, seed: 7 + i }));
    const expected = jobs.map((job) => {
      const values = new Float32Array(job.count);
      fillZiggurat(values, 2, job.seed, zigguratSimd());
      return digest(values);
    });
    for (const threads of [1, 2]) {
      const drawn = Array.from(normalStreams(jobs, 2, { sampler: 'ziggurat', threads }), digest);
      expect(drawn, `${threads} threads`).toEqual(expected);
    }
    expect(expected[0]).not.toEqual(digest(normalSamples(9_000_000, 2, 7)));
  }, 60_000);

  it('stops its workers when the consumer stops early, and draws small jobs on the calling thread', () => {
    const big = [
      { count: 9_000_000, seed: 3 },
      { count: 9_000_000, seed: 4 },
      { count: 9_000_000, seed: 5 },
    ];
    const stream = normalStreams(big, 1, { threads: 2 });
    expect(digest(stream.next().value as Float32Array)).toEqual(digest(normalSamples(9_000_000, 1, 3)));
    expect(stream.return(undefined).done).toBe(true);
    const small = [
      { count: 10, seed: 9 },
      { count: 3, seed: 2 },
    ];
    const drawn: number[][] = [];
    for (const values of normalStreams(small, 2, { threads: 4 })) drawn.push(Array.from(values));
    expect(drawn).toEqual(small.map((job) => Array.from(normalSamples(job.count, 2, job.seed))));
  }, 60_000);
});

describe('waitWhile', () => {
  it('returns only once the value has changed, however many notifies come before (late ones included)', async () => {
    // flags[0]: the value waited on; flags[1]: notifies sent while it was unchanged; flags[2]: 0, to sleep on.
    const flags = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const flags = new Int32Array(workerData);
       for (let i = 0; i < 20; i++) {
         Atomics.wait(flags, 2, 0, 2); // sleeps 2 ms
         Atomics.add(flags, 1, 1);
         Atomics.notify(flags, 0); // the value is still 0: as a late notify for an earlier change
       }
       Atomics.store(flags, 0, 1);
       Atomics.notify(flags, 0);`,
      { eval: true, workerData: flags.buffer },
    );
    waitWhile(flags, 0, 0);
    expect(Atomics.load(flags, 0)).toBe(1);
    expect(Atomics.load(flags, 1)).toBe(20);
    await worker.terminate();
  });
});
