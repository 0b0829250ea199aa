// Many seeded normal tensors in a row, drawn by worker threads where Node has them: for each job the
// same numbers as the sampler's fill function on one array (normalInit.ts's tf.randomNormal-exact
// fillNormal, or ziggurat.ts's fillZiggurat), in job order. Each job is one sequential
// generator stream, so the jobs (a model's weights) are what runs in parallel; the caller blocks
// (Atomics.wait) only while the next job is not drawn yet. LlamaModel.create stays synchronous.

import { copiedPlacement } from '../tfjs/nativeBackend.js';
import { ZIGGURAT_WASM } from './kernels/zigguratWasm.js';
import { fillNormal, mash } from './normalInit.js';
import {
  fillZiggurat,
  instantiateZigguratSimd,
  laneSample,
  nextWord,
  zigguratSimd,
  zigguratTables,
} from './ziggurat.js';

/**
 * How samples are drawn: `'tfjs'` as tf.randomNormal draws them, `'ziggurat'` several times faster
 * per sample (other numbers; see ziggurat.ts).
 */
export type NormalSampler = 'tfjs' | 'ziggurat';

/** The fill function of each sampler (self-contained apart from {@link mash} and ziggurat.ts's helpers). */
const FILL = { tfjs: fillNormal, ziggurat: fillZiggurat } as const;

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

/**
 * Blocks while `flags[index]` is `value`, however often it is woken. A bare `Atomics.wait` is not
 * enough: a notify can come late (its thread preempted between its store and its notify, as under
 * load) and wake the wait for the next job while this job is still unread, which once gave a model
 * the weights of the next job in its slot. Self-contained: its source also runs in worker threads.
 */
export function waitWhile(flags: Int32Array, index: number, value: number): void {
  while (Atomics.load(flags, index) === value) Atomics.wait(flags, index, value);
}

/** What a worker runs: it draws its jobs into its slot's buffer, one at a time, as the slot frees. */
const WORKER_SOURCE = `${mash}
${waitWhile}
${fillNormal}
${zigguratTables}
${nextWord}
${laneSample}
${instantiateZigguratSimd}
${fillZiggurat}
const { workerData } = require('node:worker_threads');
const { jobs, stdDev, sampler, control, buffer, offsetBytes, slot } = workerData;
const fill = { tfjs: ${fillNormal.name}, ziggurat: ${fillZiggurat.name} }[sampler];
const simd = sampler === 'ziggurat' ? ${instantiateZigguratSimd.name}('${ZIGGURAT_WASM}', ${zigguratTables.name}()) : null;
const flags = new Int32Array(control);
try {
  for (const job of jobs) {
    waitWhile(flags, slot, ${FILLED});
    fill(new Float32Array(buffer, offsetBytes, job.count), stdDev, job.seed, simd);
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
    options: { eval: true; execArgv: string[]; workerData: unknown },
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
 * Yields `count` samples of N(0, stdDev²) from `sampler`'s stream `seed` for each job, in order
 * (with `'tfjs'`, `normalSamples(job.count, stdDev, job.seed)`). Each array is valid only until
 * the next is requested, and starts 4 bytes past an 8-byte boundary: make tensors of it with
 * `transientTensor` (nativeBackend.ts), which copies it where a backend would keep it.
 * With Node's worker threads and enough samples, up to `threads` jobs are drawn ahead in parallel.
 *
 * @param jobs - the tensors to draw; seeds non-zero
 * @param stdDev - standard deviation
 * @param options - `sampler` (default `'tfjs'`); `threads`, the most worker threads (default the
 * machine's available parallelism)
 */
export function* normalStreams(
  jobs: readonly NormalJob[],
  stdDev: number,
  options: { sampler?: NormalSampler; threads?: number } = {},
): Generator<Float32Array> {
  const sampler = options.sampler ?? 'tfjs';
  const threads = options.threads ?? builtin<Os>('node:os')?.availableParallelism() ?? 1;
  // Every yielded array starts 4 bytes past an 8-byte boundary: TensorFlow, which adopts only
  // aligned arrays, always copies it (see transientTensor and copiedPlacement in nativeBackend.ts).
  const { bufferBytes, offsetBytes } = copiedPlacement(Math.max(0, ...jobs.map((job) => job.count)));
  const total = jobs.reduce((sum, job) => sum + job.count, 0);
  const workerThreads = builtin<WorkerThreads>('node:worker_threads');
  if (workerThreads === undefined || threads < 2 || total < PARALLEL_MIN_SAMPLES) {
    const buffer = new ArrayBuffer(bufferBytes);
    const simd = sampler === 'ziggurat' ? zigguratSimd() : null;
    for (const job of jobs) {
      const out = new Float32Array(buffer, offsetBytes, job.count);
      FILL[sampler](out, stdDev, job.seed, simd);
      yield out;
    }
    return;
  }
  const slots = Math.min(threads, jobs.length);
  const control = new Int32Array(new SharedArrayBuffer(4 * slots));
  const buffers = Array.from({ length: slots }, () => new SharedArrayBuffer(bufferBytes));
  const workers = buffers.map((buffer, slot) => {
    const worker = new workerThreads.Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [], // plain CommonJS: not under --input-type=module, and no loaders such as tsx
      workerData: {
        jobs: jobs.filter((_, i) => i % slots === slot),
        stdDev,
        sampler,
        control: control.buffer,
        buffer,
        offsetBytes,
        slot,
      },
    });
    worker.unref();
    return worker;
  });
  try {
    for (const [i, job] of jobs.entries()) {
      const slot = i % slots;
      waitWhile(control, slot, FREE);
      if (Atomics.load(control, slot) === FAILED)
        throw new Error(`normalStreams: the worker drawing job ${i} failed (out of memory?)`);
      yield new Float32Array(buffers[slot]!, offsetBytes, job.count);
      Atomics.store(control, slot, FREE);
      Atomics.notify(control, slot);
    }
  } finally {
    for (const worker of workers) void worker.terminate();
  }
}
