// Many seeded normal tensors in a row, drawn by worker threads where Node has them, and handed to
// the caller in pieces, in order: each tensor is cut into pieces of whole rows, small enough for a
// few to wait in each thread's ring of buffers (a few MB) while the caller copies the last one out.
// With the ziggurat sampler each piece is its own stream (ziggurat.ts's fillZiggurat with the
// piece's number), so the threads take the pieces in turn, whatever the tensors' sizes; with the
// tf.randomNormal-exact sampler (normalInit.ts's fillNormal) a tensor is one sequential stream, so
// it is one piece. The caller blocks (Atomics.wait) only while the next piece is not drawn yet;
// LlamaModel.create stays synchronous.

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
const FILL: Record<
  NormalSampler,
  (
    out: Float32Array,
    stdDev: number,
    seed: number,
    simd: ReturnType<typeof zigguratSimd>,
    piece: number,
  ) => void
> = { tfjs: fillNormal, ziggurat: fillZiggurat };

/** One tensor to draw: a `[rows, cols]` matrix, row-major, and the seed of its stream. */
export interface NormalJob {
  rows: number;
  cols: number;
  seed: number;
}

/** One piece of a job: rows `index·r` to `(index + 1)·r` of it, for `r` rows a piece. */
export interface NormalPiece {
  /** The job's position in the list. */
  job: number;
  /** The piece's position in its job, and how many pieces the job has (all of one size). */
  index: number;
  pieces: number;
  values: Float32Array;
}

/** The most samples a piece of the ziggurat sampler holds (4 MiB): a few per thread stay in its cache. */
const PIECE_SAMPLES = 2 ** 20;

/**
 * Rows a piece of `job` holds: with `'tfjs'` all of them (one stream); with `'ziggurat'` the
 * largest divisor of the rows whose piece holds at most {@link PIECE_SAMPLES} samples (at least one row).
 */
export function pieceRows(job: Pick<NormalJob, 'rows' | 'cols'>, sampler: NormalSampler): number {
  if (sampler === 'tfjs') return job.rows;
  let rows = Math.max(1, Math.min(job.rows, Math.floor(PIECE_SAMPLES / job.cols)));
  while (job.rows % rows !== 0) rows--;
  return rows;
}

/** Jobs of fewer samples than this in all are drawn on the calling thread (a worker takes ~30 ms to start). */
const PARALLEL_MIN_SAMPLES = 1 << 24;

/** The most bytes of buffers a worker thread draws ahead into (at least one piece, at most 4). */
const RING_BYTES = 2 ** 24;

/**
 * Blocks until `counts[index]` is at least `count` or negative (a failure), however often it is
 * woken, and returns it. The counts only grow, so a late notify (its thread preempted between its
 * store and its notify, as under load) is harmless. Self-contained: its source also runs in
 * worker threads.
 */
export function waitForCount(counts: Int32Array, index: number, count: number): number {
  for (;;) {
    const value = Atomics.load(counts, index);
    if (value >= count || value < 0) return value;
    Atomics.wait(counts, index, value);
  }
}

/**
 * What a worker runs: it draws its pieces, in turn, into its ring of slots, each once the caller
 * has released the piece that was there. counts[2·slot]: pieces drawn (−1 after a failure);
 * counts[2·slot + 1]: pieces the caller has released.
 */
const WORKER_SOURCE = `${mash}
${waitForCount}
${fillNormal}
${zigguratTables}
${nextWord}
${laneSample}
${instantiateZigguratSimd}
${fillZiggurat}
const { workerData } = require('node:worker_threads');
const { pieces, stdDev, sampler, control, buffer, offsetBytes, slotBytes, ring, slot } = workerData;
const fill = { tfjs: ${fillNormal.name}, ziggurat: ${fillZiggurat.name} }[sampler];
const simd = sampler === 'ziggurat' ? ${instantiateZigguratSimd.name}('${ZIGGURAT_WASM}', ${zigguratTables.name}()) : null;
const counts = new Int32Array(control);
try {
  for (let n = 0; n < pieces.length; n++) {
    waitForCount(counts, 2 * slot + 1, n - ring + 1);
    const piece = pieces[n];
    fill(new Float32Array(buffer, offsetBytes + (n % ring) * slotBytes, piece.count), stdDev, piece.seed, simd, piece.index);
    Atomics.store(counts, 2 * slot, n + 1);
    Atomics.notify(counts, 2 * slot);
  }
} catch (error) {
  Atomics.store(counts, 2 * slot, -1);
  Atomics.notify(counts, 2 * slot);
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

/** One piece to draw: where it goes (as in {@link NormalPiece}), its samples and its job's seed. */
type PieceJob = Omit<NormalPiece, 'values'> & { count: number; seed: number };

/**
 * Yields every job's samples of N(0, stdDev²) from `sampler`'s stream `seed`, in pieces of
 * {@link pieceRows} rows, job after job, each in order (with `'tfjs'`, one piece a job equal to
 * `normalSamples(rows·cols, stdDev, seed)`). A piece's array is valid only until the next is
 * requested, and starts 4 bytes past an 8-byte boundary: TensorFlow, which adopts only aligned
 * arrays, always copies it. With Node's worker threads and enough samples, up to `threads`
 * threads draw ahead in parallel.
 *
 * @param jobs - the tensors to draw
 * @param stdDev - standard deviation
 * @param options - `sampler` (default `'tfjs'`); `threads`, the most worker threads (default the
 * machine's available parallelism)
 */
export function* normalPieces(
  jobs: readonly NormalJob[],
  stdDev: number,
  options: { sampler?: NormalSampler; threads?: number } = {},
): Generator<NormalPiece> {
  const sampler = options.sampler ?? 'tfjs';
  const threads = options.threads ?? builtin<Os>('node:os')?.availableParallelism() ?? 1;
  const pieces: PieceJob[] = jobs.flatMap((job, index) => {
    const rows = pieceRows(job, sampler);
    const count = job.rows / rows;
    return Array.from({ length: count }, (_, piece) => ({
      job: index,
      index: piece,
      pieces: count,
      count: rows * job.cols,
      seed: job.seed,
    }));
  });
  const pieceOf = (piece: PieceJob, values: Float32Array): NormalPiece => ({
    job: piece.job,
    index: piece.index,
    pieces: piece.pieces,
    values,
  });
  const largest = Math.max(0, ...pieces.map((piece) => piece.count));
  const { bufferBytes, offsetBytes } = copiedPlacement(largest);
  const total = pieces.reduce((sum, piece) => sum + piece.count, 0);
  const workerThreads = builtin<WorkerThreads>('node:worker_threads');
  if (workerThreads === undefined || threads < 2 || total < PARALLEL_MIN_SAMPLES) {
    const buffer = new ArrayBuffer(bufferBytes);
    const simd = sampler === 'ziggurat' ? zigguratSimd() : null;
    for (const piece of pieces) {
      const values = new Float32Array(buffer, offsetBytes, piece.count);
      FILL[sampler](values, stdDev, piece.seed, simd, piece.index);
      yield pieceOf(piece, values);
    }
    return;
  }
  const slots = Math.min(threads, pieces.length);
  const slotBytes = Math.ceil(bufferBytes / 8) * 8; // every slot's values 4 bytes past an 8-byte boundary
  const ring = Math.max(1, Math.min(4, Math.floor(RING_BYTES / slotBytes)));
  const counts = new Int32Array(new SharedArrayBuffer(8 * slots));
  const buffers = Array.from({ length: slots }, () => new SharedArrayBuffer(ring * slotBytes));
  const workers = buffers.map((buffer, slot) => {
    const worker = new workerThreads.Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [], // plain CommonJS: not under --input-type=module, and no loaders such as tsx
      workerData: {
        pieces: pieces.filter((_, i) => i % slots === slot),
        stdDev,
        sampler,
        control: counts.buffer,
        buffer,
        offsetBytes,
        slotBytes,
        ring,
        slot,
      },
    });
    worker.unref();
    return worker;
  });
  try {
    for (const [i, piece] of pieces.entries()) {
      const slot = i % slots;
      const drawn = Math.floor(i / slots); // the slot's pieces before this one
      if (waitForCount(counts, 2 * slot, drawn + 1) < 0)
        throw new Error(`normalPieces: the worker drawing piece ${i} failed (out of memory?)`);
      const at = offsetBytes + (drawn % ring) * slotBytes;
      yield pieceOf(piece, new Float32Array(buffers[slot]!, at, piece.count));
      Atomics.store(counts, 2 * slot + 1, drawn + 1);
      Atomics.notify(counts, 2 * slot + 1);
    }
  } finally {
    for (const worker of workers) void worker.terminate();
  }
}
