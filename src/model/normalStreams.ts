// Many seeded normal tensors in a row, drawn by worker threads where Node has them: for each job the
// same numbers as normalSamples(count, stdDev, seed), in job order. Each job is one sequential
// generator stream, so the jobs (a model's weights) are what runs in parallel; the caller blocks
// (Atomics.wait) only while the next job is not drawn yet. LlamaModel.create stays synchronous.
import { fillNormal, mash } from './normalInit.js';

/** One tensor's samples: how many, and the seed of its stream. */
export interface NormalJob {
  count: number;
  seed: number;
}

/** Jobs of fewer samples than this in all are drawn on the calling thread (a worker takes ~30 ms to start). */
const PARALLEL_MIN_SAMPLES = 1 << 24;

/** A slot's state in the shared control array. */
const FREE = 0;
const FILLED = 1;
const FAILED = 2;

/** What a worker runs: it draws its jobs into its slot's buffer, one at a time, as the slot frees. */
const WORKER_SOURCE = `${mash}
${fillNormal}
const { workerData } = require('node:worker_threads');
const { jobs, stdDev, control, buffer, slot } = workerData;
const flags = new Int32Array(control);
try {
  for (const job of jobs) {
    Atomics.wait(flags, slot, ${FILLED});
    fillNormal(new Float32Array(buffer, 0, job.count), stdDev, job.seed);
    Atomics.store(flags, slot, ${FILLED});
    Atomics.notify(flags, slot);
  }
} catch (error) {
  Atomics.store(flags, slot, ${FAILED});
  Atomics.notify(flags, slot);
}
`;

/** What this module uses of `node:worker_threads` (reached without an import: the browser build has this module). */
interface WorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true; workerData: unknown },
  ) => { unref(): void; terminate(): Promise<number> };
}
/** What this module uses of `node:os`. */
interface Os {
  availableParallelism(): number;
}

/** A Node built-in module without an import (absent in browsers and before Node 20.16). */
function builtin<T>(id: string): T | undefined {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof node?.getBuiltinModule === 'function' ? (node.getBuiltinModule(id) as T) : undefined;
}

/**
 * Yields `normalSamples(job.count, stdDev, job.seed)` for each job, in order. Each array is valid
 * only until the next is requested: copy it before a tensor gets it (a backend may keep the array
 * it is given; tfjs-node's TensorFlow adopts an aligned one).
 * With Node's worker threads and enough samples, up to `threads` jobs are drawn ahead in parallel.
 *
 * @param jobs - the tensors to draw; seeds non-zero
 * @param stdDev - standard deviation
 * @param threads - worker threads @default the machine's available parallelism
 */
export function* normalStreams(
  jobs: readonly NormalJob[],
  stdDev: number,
  threads = builtin<Os>('node:os')?.availableParallelism() ?? 1,
): Generator<Float32Array> {
  const largest = Math.max(0, ...jobs.map((job) => job.count));
  const total = jobs.reduce((sum, job) => sum + job.count, 0);
  const workerThreads = builtin<WorkerThreads>('node:worker_threads');
  if (workerThreads === undefined || threads < 2 || total < PARALLEL_MIN_SAMPLES) {
    const buffer = new Float32Array(largest);
    for (const job of jobs) {
      const out = buffer.subarray(0, job.count);
      fillNormal(out, stdDev, job.seed);
      yield out;
    }
    return;
  }
  const slots = Math.min(threads, jobs.length);
  const control = new Int32Array(new SharedArrayBuffer(4 * slots));
  const buffers = Array.from({ length: slots }, () => new SharedArrayBuffer(4 * largest));
  const workers = buffers.map((buffer, slot) => {
    const worker = new workerThreads.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        jobs: jobs.filter((_, i) => i % slots === slot),
        stdDev,
        control: control.buffer,
        buffer,
        slot,
      },
    });
    worker.unref();
    return worker;
  });
  try {
    for (const [i, job] of jobs.entries()) {
      const slot = i % slots;
      Atomics.wait(control, slot, FREE);
      if (Atomics.load(control, slot) === FAILED)
        throw new Error(`normalStreams: the worker drawing job ${i} failed (out of memory?)`);
      yield new Float32Array(buffers[slot]!, 0, job.count);
      Atomics.store(control, slot, FREE);
      Atomics.notify(control, slot);
    }
  } finally {
    for (const worker of workers) void worker.terminate();
  }
}
