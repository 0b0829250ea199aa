// Tensors encoded (F32 or BF16), hashed and written to their place in an open file by worker
// threads, while the calling thread only produces each tensor's float32 values: the counterpart of
// parallelRead.ts, for writeSafetensors. Node only, little-endian hosts (others write inline).
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { floatBitsToBfloat16 } from '../io/dtypes.js';
import { hashBfloat16AsFloat32 } from './parallelRead.js';

/** The CRC-32s of one written tensor: of its bytes, and of the float32 values they decode to. */
export interface TensorWriteResult {
  crc: number;
  valuesCrc: number;
}

/** What {@link writeTensor} calls, passed in (its source runs in worker threads, without imports). */
export interface TensorWriteTools {
  files: {
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  };
  /** zlib's `crc32`. */
  hash: (bytes: Uint8Array, running: number) => number;
  /** `floatBitsToBfloat16`. */
  toBfloat16: (bits: number) => number;
  /** `hashBfloat16AsFloat32`. */
  hashBfloat16: typeof hashBfloat16AsFloat32;
}

/**
 * Encodes `values` as `dtype` (little-endian; BF16 rounded to nearest even, into `halves` when it
 * is large enough), hashes the bytes and the float32 values they decode to, and writes the bytes at
 * byte `position` of the open file `fd`. Self-contained (what it calls comes in `tools`), without
 * nested functions: its source also runs in worker threads. Little-endian hosts only.
 */
export function writeTensor(
  values: Float32Array,
  dtype: 'F32' | 'BF16',
  fd: number,
  position: number,
  tools: TensorWriteTools,
  halves: Uint16Array,
  scratch: Uint32Array,
): TensorWriteResult {
  const count = values.length;
  let bytes: Uint8Array;
  let valuesCrc = 0;
  if (dtype === 'F32') bytes = new Uint8Array(values.buffer, values.byteOffset, count * 4);
  else {
    const bits = new Uint32Array(values.buffer, values.byteOffset, count);
    const out = halves.length >= count ? halves : new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = tools.toBfloat16(bits[i]!);
    bytes = new Uint8Array(out.buffer, out.byteOffset, count * 2);
    valuesCrc = tools.hashBfloat16(out, count, scratch, tools.hash, 0);
  }
  const crc = count === 0 ? 0 : tools.hash(bytes, 0) >>> 0;
  for (let done = 0; done < bytes.length; )
    done += tools.files.writeSync(fd, bytes, done, bytes.length - done, position + done);
  return { crc, valuesCrc: dtype === 'F32' ? crc : valuesCrc >>> 0 };
}

/** What a worker runs: each message names a tensor in its slot of shared memory to write. */
const WORKER_SOURCE = `${hashBfloat16AsFloat32}
${floatBitsToBfloat16}
${writeTensor}
const { parentPort, workerData } = require('node:worker_threads');
const files = require('node:fs');
const { crc32 } = require('node:zlib');
const { slot, fd, dtype } = workerData;
const halves = new Uint16Array(dtype === 'BF16' ? slot.byteLength / 4 : 0);
const scratch = new Uint32Array(4096);
const tools = { files, hash: crc32, toBfloat16: ${floatBitsToBfloat16.name}, hashBfloat16: ${hashBfloat16AsFloat32.name} };
parentPort.on('message', ({ index, length, position }) => {
  try {
    const values = new Float32Array(slot, 0, length);
    const result = ${writeTensor.name}(values, dtype, fd, position, tools, halves, scratch);
    parentPort.postMessage({ index, ...result });
  } catch (error) {
    parentPort.postMessage({ index, error: String(error instanceof Error ? error.message : error) });
  }
});
`;

/** Files of fewer bytes than this are written on the calling thread (a worker takes ~30 ms to start). */
const PARALLEL_MIN_BYTES = 2 ** 25;

/** Options of {@link writeTensors}. */
export interface WriteTensorsOptions {
  /** The most worker threads. @default the machine's available parallelism */
  threads?: number;
  /** Use threads for any total size (tests). @default false */
  alwaysParallel?: boolean;
}

/**
 * Writes tensors to the open file `fd`, tensor `i` at byte `tensors[i].position` as `dtype`: its
 * `tensors[i].length` values come from `read(i)`, in order, on this thread; encoding, hashing and
 * writing run in worker threads (one per core, for files of 32 MiB or more), each taking a copy of
 * the values in its own shared buffer, so `read` may return any array (a backend's own storage
 * included). Small files are written on this thread. Little-endian hosts only (writeSafetensors
 * encodes on the calling thread elsewhere).
 *
 * @returns each tensor's CRC-32s, in order
 * @throws the first error of a read or a write (the file is then incomplete)
 */
export async function writeTensors(
  fd: number,
  tensors: readonly { position: number; length: number }[],
  dtype: 'F32' | 'BF16',
  read: (index: number) => Promise<Float32Array>,
  options: WriteTensorsOptions = {},
): Promise<TensorWriteResult[]> {
  const bytesPerValue = dtype === 'F32' ? 4 : 2;
  const total = tensors.reduce((sum, { length }) => sum + length * bytesPerValue, 0);
  const threads = Math.min(options.threads ?? availableParallelism(), tensors.length);
  const largest = Math.max(0, ...tensors.map(({ length }) => length));
  const results: TensorWriteResult[] = [];
  if (threads < 2 || (total < PARALLEL_MIN_BYTES && options.alwaysParallel !== true)) {
    const tools = {
      files: fs,
      hash: crc32,
      toBfloat16: floatBitsToBfloat16,
      hashBfloat16: hashBfloat16AsFloat32,
    };
    const scratch = new Uint32Array(4096);
    for (const [index, { position }] of tensors.entries()) {
      const values = await read(index);
      results.push(writeTensor(values, dtype, fd, position, tools, new Uint16Array(0), scratch));
    }
    return results;
  }
  const slots = Array.from({ length: threads }, () => new SharedArrayBuffer(4 * largest));
  const workers = slots.map(
    (slot) => new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { slot, fd, dtype } }),
  );
  const idle: number[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  workers.forEach((worker, slot) => {
    idle.push(slot);
    worker.on('message', (message: TensorWriteResult & { index: number; error?: string }) => {
      if (message.error !== undefined) failure ??= new Error(message.error);
      else results[message.index] = { crc: message.crc, valuesCrc: message.valuesCrc };
      idle.push(slot);
      wake?.();
    });
    worker.on('error', (error) => {
      failure ??= error;
      wake?.();
    });
  });
  const settle = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  try {
    for (const [index, { position, length }] of tensors.entries()) {
      const values = await read(index);
      while (idle.length === 0 && failure === undefined) await settle();
      if (failure !== undefined) throw failure;
      const slot = idle.pop()!;
      new Float32Array(slots[slot]!, 0, length).set(values);
      workers[slot]!.postMessage({ index, length, position });
    }
    while (idle.length < threads && failure === undefined) await settle();
    if (failure !== undefined) throw failure;
    return results;
  } finally {
    // Awaited: after a failure a thread may still be writing, and the caller then closes `fd`,
    // whose number a later open may reuse.
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
