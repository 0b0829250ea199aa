// Stored tensors read, hashed, decoded to float32 and laid out (transposed where asked) by worker
// threads, each into a buffer of its own that it hands to the main thread without a copy. A tensor
// is read in bands of rows small enough to stay in the cache, so decoding and transposing happen
// while the bytes are still there, and no whole-tensor read buffer or intermediate float32 copy is
// ever made. Node only.
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { SLMError } from '../core/errors.js';
import { halfToFloatBits, type TensorDtype } from '../io/dtypes.js';
import type { Placement } from '../tfjs/nativeBackend.js';

/**
 * One stored tensor to read: where its bytes are, how they are stored, and where its values go (the
 * placement: the size of their new buffer and their byte offset in it, a multiple of 4).
 */
export interface TensorRead extends Placement {
  /** The file. */
  path: string;
  /** Byte offsets of the tensor's first byte and of the byte after its last in the file. */
  start: number;
  end: number;
  /** Storage format (little-endian; any format when only hashed). */
  dtype: TensorDtype;
  /** The stored matrix: `rows` rows of `columns` values (a vector is one row; unused when only hashed). */
  rows: number;
  columns: number;
  /** Write the values as the `[columns, rows]` transpose. */
  transpose: boolean;
  /** Only hash the bytes: no values are made. */
  hashOnly: boolean;
  /** Hash the bytes (CRC-32). */
  hash: boolean;
  /** Hash the float32 values too, in the stored row order (CRC-32 of their bytes in host order). */
  hashValues: boolean;
}

/** What {@link readTensor} gives for one {@link TensorRead}. */
export interface TensorReadResult {
  /** CRC-32 of the tensor's bytes (0 when not hashed). */
  crc: number;
  /** CRC-32 of its float32 values in the stored row order (0 unless `hashValues`). */
  valuesCrc: number;
  /** The values, `offsetBytes` into a buffer of `bufferBytes` (absent when only hashed). */
  values?: Float32Array;
}

/** What {@link readTensor} uses of `node:fs`. */
interface SyncFiles {
  openSync(path: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

/**
 * Fills `bytes` from byte `position` of the open file `fd`.
 * Self-contained: its source also runs in worker threads.
 *
 * @throws Error when the file ends first
 */
export function readFully(files: SyncFiles, fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) {
    const got = files.readSync(fd, bytes, done, bytes.length - done, position + done);
    if (got === 0) throw new Error(`the file ends at byte ${position + done}, inside the tensor`);
    done += got;
  }
}

/**
 * Continues `running`, a CRC-32 taken with `hash`, over the float32 values of the first `count`
 * bfloat16 `words` (each as its float32 bits in host byte order), converted through `scratch` a
 * few thousand at a time so that the scratch stays in the cache. Self-contained: its source also
 * runs in worker threads (so it lives here, where the worker code is: a test runner rewrites calls
 * to imported functions).
 *
 * @returns the continued CRC-32
 */
export function hashBfloat16AsFloat32(
  words: Uint16Array,
  count: number,
  scratch: Uint32Array,
  hash: (bytes: Uint8Array, running: number) => number,
  running: number,
): number {
  let crc = running;
  for (let at = 0; at < count; at += scratch.length) {
    const length = Math.min(scratch.length, count - at);
    for (let i = 0; i < length; i++) scratch[i] = words[at + i]! << 16;
    crc = hash(new Uint8Array(scratch.buffer, scratch.byteOffset, length * 4), crc);
  }
  return crc;
}

/**
 * Reads one tensor synchronously: its bytes in bands of rows, each band hashed, decoded to float32
 * bits (F32 as they are, BF16 shifted, F16 converted exactly), the values hashed where asked, and
 * written to its place in a new buffer, transposed when asked. Self-contained apart from
 * `readFully` and `hashBfloat16AsFloat32`, and without nested functions (which bundlers that keep
 * names would wrap in a helper the workers lack): its source also runs in worker threads. What it
 * imports comes in as arguments (a test runner may rewrite calls of imported names).
 *
 * @param hash - CRC-32 of bytes, continuing `running` (node:zlib's crc32)
 * @param halfToFloat - float32 bits of a float16 (dtypes.ts's halfToFloatBits)
 * @returns the CRC-32s of the bytes and of the values, and the new buffer (none when only hashed)
 * @throws Error when the file ends before the tensor does
 */
export function readTensor(
  read: TensorRead,
  files: SyncFiles,
  hash: (bytes: Uint8Array, running: number) => number,
  halfToFloat: (half: number) => number,
): { crc: number; valuesCrc: number; buffer?: ArrayBuffer } {
  const fd = files.openSync(read.path, 'r');
  let crc = 0;
  let valuesCrc = 0;
  try {
    if (read.hashOnly) {
      const chunk = new Uint8Array(Math.min(2 ** 20, read.end - read.start));
      for (let position = read.start; position < read.end; position += chunk.length) {
        const bytes = chunk.subarray(0, Math.min(chunk.length, read.end - position));
        readFully(files, fd, bytes, position);
        if (read.hash) crc = hash(bytes, crc);
      }
      return { crc: crc >>> 0, valuesCrc };
    }
    const { rows, columns, transpose } = read;
    const size = read.dtype === 'F32' ? 4 : 2;
    const rowBytes = columns * size;
    // A transposed band is 64 rows (a tile: each column's 64 values are 4 cache lines of the
    // target); others are up to 1 MiB.
    const bandRows = Math.max(1, Math.min(rows, transpose ? 64 : Math.floor(2 ** 20 / rowBytes)));
    const band = new Uint8Array(bandRows * rowBytes);
    // What the band's values are read from as float32 bits, shifted left by `shift`: the stored
    // words for F32 and BF16, words converted from F16.
    const shift = read.dtype === 'BF16' ? 16 : 0;
    const words = size === 4 ? new Uint32Array(band.buffer) : new Uint16Array(band.buffer);
    const source = read.dtype === 'F16' ? new Uint32Array(bandRows * columns) : words;
    const hashScratch = read.hashValues && shift !== 0 ? new Uint32Array(4096) : undefined;
    const buffer = new ArrayBuffer(read.bufferBytes);
    const target = new Uint32Array(buffer, read.offsetBytes, rows * columns);
    // Files are little-endian; a big-endian host swaps each value's bytes after hashing them.
    const bigEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
    for (let first = 0; first < rows; first += bandRows) {
      const count = Math.min(bandRows, rows - first);
      const values = count * columns;
      const bytes = band.subarray(0, values * size);
      readFully(files, fd, bytes, read.start + first * rowBytes);
      if (read.hash && bytes.length > 0) crc = hash(bytes, crc);
      if (bigEndian) for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
      if (read.dtype === 'F16') for (let i = 0; i < values; i++) source[i] = halfToFloat(words[i]!);
      if (hashScratch !== undefined)
        valuesCrc = hashBfloat16AsFloat32(words as Uint16Array, values, hashScratch, hash, valuesCrc);
      else if (read.hashValues && values > 0)
        valuesCrc = hash(new Uint8Array(source.buffer, source.byteOffset, values * 4), valuesCrc);
      if (!transpose) {
        for (let i = 0, to = first * columns; i < values; i++, to++) target[to] = source[i]! << shift;
      } else {
        for (let column = 0; column < columns; column++) {
          let from = column;
          let to = column * rows + first;
          for (let row = 0; row < count; row++, from += columns) target[to++] = source[from]! << shift;
        }
      }
    }
    return { crc: crc >>> 0, valuesCrc: valuesCrc >>> 0, buffer };
  } finally {
    files.closeSync(fd);
  }
}

/** What a worker runs: reads, one message each, answered with the values' buffer transferred. */
const WORKER_SOURCE = `${halfToFloatBits}
${hashBfloat16AsFloat32}
${readFully}
${readTensor}
const { parentPort } = require('node:worker_threads');
const files = require('node:fs');
const { crc32 } = require('node:zlib');
parentPort.on('message', ({ index, read }) => {
  try {
    const { crc, valuesCrc, buffer } = ${readTensor.name}(read, files, crc32, ${halfToFloatBits.name});
    parentPort.postMessage({ index, crc, valuesCrc, buffer }, buffer === undefined ? [] : [buffer]);
  } catch (error) {
    parentPort.postMessage({ index, error: String(error instanceof Error ? error.message : error) });
  }
});
`;

/** Reads of fewer bytes than this in all run on the calling thread (a worker takes ~30 ms to start). */
const PARALLEL_MIN_BYTES = 2 ** 25;

/** Options of {@link readTensors}. */
export interface ReadTensorsOptions {
  /** The most worker threads. @default the machine's available parallelism */
  threads?: number;
  /** Use threads for any total size (tests). @default false */
  alwaysParallel?: boolean;
}

function result(
  read: TensorRead,
  { crc, valuesCrc, buffer }: { crc: number; valuesCrc: number; buffer?: ArrayBuffer },
): TensorReadResult {
  if (buffer === undefined) return { crc, valuesCrc };
  return { crc, valuesCrc, values: new Float32Array(buffer, read.offsetBytes, read.rows * read.columns) };
}

function readFailure(read: TensorRead, message: string): SLMError {
  return new SLMError(
    'BAD_CHECKPOINT',
    `${read.path}: cannot read a tensor at byte ${read.start}: ${message}`,
  );
}

/**
 * Performs `reads` (see {@link readTensor}) in worker threads, one at a time each, largest first,
 * and yields each result with its index as it finishes (not in order). No more finished results
 * than threads wait to be taken, so memory stays bounded however slowly the caller consumes.
 * Reads of less than 32 MiB in all, or with one thread, run on the calling thread in order.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` naming the file when a read fails
 */
export async function* readTensors(
  reads: readonly TensorRead[],
  options: ReadTensorsOptions = {},
): AsyncGenerator<[number, TensorReadResult]> {
  const threads = Math.min(options.threads ?? availableParallelism(), reads.length);
  const total = reads.reduce((sum, read) => sum + read.end - read.start, 0);
  if (threads < 2 || (total < PARALLEL_MIN_BYTES && options.alwaysParallel !== true)) {
    for (const [index, read] of reads.entries()) {
      let done: ReturnType<typeof readTensor>;
      try {
        done = readTensor(read, fs, crc32, halfToFloatBits);
      } catch (error) {
        throw readFailure(read, (error as Error).message);
      }
      yield [index, result(read, done)];
    }
    return;
  }
  // No inherited flags: the source is plain CommonJS (not under --input-type=module) and needs no
  // loaders (such as --import tsx, which would slow each thread's start).
  const workers = Array.from(
    { length: threads },
    () => new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }),
  );
  const idle = [...workers];
  const finished: [number, TensorReadResult][] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  // Largest first, so the threads finish together (a 1.1 B model's embedding and output
  // projection take about a second each).
  const order = [...reads.keys()].sort(
    (a, b) => reads[b]!.end - reads[b]!.start - (reads[a]!.end - reads[a]!.start),
  );
  let next = 0;
  const dispatch = () => {
    while (idle.length > 0 && next < order.length && finished.length < threads) {
      const index = order[next++]!;
      idle.pop()!.postMessage({ index, read: reads[index] });
    }
  };
  for (const worker of workers) {
    type Message = { index: number; crc: number; valuesCrc: number; buffer?: ArrayBuffer; error?: string };
    worker.on('message', (message: Message) => {
      const read = reads[message.index]!;
      if (message.error !== undefined) failure ??= readFailure(read, message.error);
      else finished.push([message.index, result(read, message)]);
      idle.push(worker);
      dispatch();
      wake?.();
    });
    worker.on('error', (error) => {
      failure ??= new SLMError('BAD_CHECKPOINT', `A checkpoint reading thread failed: ${error.message}`);
      wake?.();
    });
  }
  try {
    dispatch();
    for (let taken = 0; taken < reads.length; ) {
      if (failure !== undefined) throw failure;
      const done = finished.shift();
      if (done === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      taken++;
      dispatch();
      yield done;
    }
  } finally {
    for (const worker of workers) void worker.terminate();
  }
}
