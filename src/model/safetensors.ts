// The safetensors format (Hugging Face): 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}} plus __metadata__, then raw little-endian tensor bytes.
// Read and written one tensor at a time, so a checkpoint is never held twice in memory.
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { SLMError } from '../core/errors.js';
import { elementCount } from '../core/shape.js';
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';
import { combineCrc32, continueCrc32 } from '../io/checksum.js';
import { DTYPE_BYTES, decodeFloats, encodeFloats, LITTLE_ENDIAN, type TensorDtype } from '../io/dtypes.js';
import { type WriteTensorsOptions, writeTensors } from './parallelWrite.js';
import type { NamedWeight } from './weights.js';

/** One tensor's place in a safetensors file. */
export interface SafetensorsEntry {
  /** Tensor name. */
  name: string;
  /** Storage dtype as written in the header (`F32`, `F16`, `BF16`, …). */
  dtype: string;
  /** Shape. */
  shape: number[];
  /** Absolute byte range `[start, end)` in the file. */
  start: number;
  end: number;
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  /** Entries by name, in file order. */
  entries: Map<string, SafetensorsEntry>;
  /** String metadata (`__metadata__`). */
  metadata: Record<string, string>;
}

/** Metadata key of the CRC-32 of the data section that this library writes and checks. */
const CHECKSUM_KEY = 'rho_slm_data_crc32';
/**
 * Metadata key of the CRC-32 of the rest of the header: the tensor list (names, dtypes, shapes,
 * offsets; two tensors of one shape with their offsets swapped keep the data checksum intact) and
 * the other metadata (so a corrupt key cannot silently drop the data checksum or the config).
 */
const HEADER_KEY = 'rho_slm_header_crc32';
/**
 * Metadata key of the CRC-32 of the float32 values the data section decodes to, tensor after tensor
 * in file order, as little-endian bytes (written by little-endian hosts): for a model's checkpoint,
 * what `modelFingerprint` hashes of the loaded model, so that loading need not hash the values.
 */
const VALUES_CHECKSUM_KEY = 'rho_slm_values_crc32';
/** Largest JSON header read, as in Hugging Face's safetensors (100 MB). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;
/** Bytes hashed per read when the checksum covers tensors that are not wanted. */
const CHECKSUM_CHUNK_BYTES = 1 << 24;

function bad(path: string, problem: string): never {
  throw new SLMError('BAD_CHECKPOINT', `${path}: ${problem}`);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** One header entry, checked: a known layout, offsets inside the data, size matching dtype × shape. */
function parseEntry(path: string, name: string, value: unknown, dataStart: number, dataBytes: number) {
  const { dtype, shape, data_offsets: offsets } = (value ?? {}) as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Array.isArray(shape) || !shape.every(isNonNegativeInteger))
    bad(path, `tensor '${name}' has no valid dtype and shape (${JSON.stringify(value)?.slice(0, 80)})`);
  const [first, last] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [];
  if (!isNonNegativeInteger(first) || !isNonNegativeInteger(last) || first > last || last > dataBytes) {
    bad(
      path,
      `tensor '${name}' has data offsets ${JSON.stringify(offsets)} outside the ${dataBytes} data bytes (truncated file?)`,
    );
  }
  const elements = elementCount(shape as number[]);
  const bytes = DTYPE_BYTES[dtype as TensorDtype];
  if (bytes !== undefined && last - first !== elements * bytes) {
    bad(
      path,
      `tensor '${name}' (${dtype} [${shape}]) spans ${last - first} bytes, expected ${elements * bytes}`,
    );
  }
  return { name, dtype, shape: shape as number[], start: dataStart + first, end: dataStart + last };
}

/** CRC-32 (8 hex digits) of a header: its tensor list by name (offsets relative to the data) and its other metadata. */
function headerChecksum(
  entries: Iterable<{ name: string; dtype: string; shape: number[]; start: number; end: number }>,
  metadata: Record<string, string>,
): string {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const list = [...entries]
    .sort((a, b) => byName(a.name, b.name))
    .map(({ name, dtype, shape, start, end }) => [name, dtype, shape, start, end]);
  const rest = Object.entries(metadata)
    .filter(([key]) => key !== HEADER_KEY)
    .sort(([a], [b]) => byName(a, b));
  return crc32(Buffer.from(JSON.stringify([list, rest])))
    .toString(16)
    .padStart(8, '0');
}

/** Throws unless the entries tile the data section exactly, without gaps or overlaps (as safetensors requires). */
function checkTiling(
  path: string,
  entries: Iterable<SafetensorsEntry>,
  dataStart: number,
  size: number,
): void {
  let next = dataStart;
  for (const entry of [...entries].sort((a, b) => a.start - b.start || a.end - b.end)) {
    if (entry.start !== next)
      bad(
        path,
        `tensor '${entry.name}' starts at byte ${entry.start}, expected ${next} (overlapping or gapped data)`,
      );
    next = entry.end;
  }
  if (next !== size) bad(path, `tensors end at byte ${next} but the file has ${size} (trailing bytes)`);
}

/**
 * Reads and checks a safetensors header: a length within the file and at most 100 MB, valid JSON,
 * entries with a dtype, a shape and offsets that tile the data section exactly, sizes matching
 * dtype × shape, string metadata, and the header's CRC-32 when this library wrote the file.
 * Nothing is allocated before its size is checked.
 *
 * @param path - the `.safetensors` file
 * @throws {@link SLMError} `BAD_CHECKPOINT` with what is wrong and a hint
 * @example
 * ```ts
 * const { entries } = await readSafetensorsHeader('model.safetensors');
 * ```
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(8);
    if (size >= 8) await handle.read(prefix, 0, 8, 0);
    const headerLength = size >= 8 ? prefix.readBigUInt64LE(0) : 0n;
    if (size < 8 || headerLength <= 1n || 8n + headerLength > BigInt(size)) {
      bad(path, `header length ${headerLength} does not fit in ${size} bytes; is this a safetensors file?`);
    }
    if (headerLength > BigInt(MAX_SAFETENSORS_HEADER_BYTES))
      bad(path, `header length ${headerLength} exceeds ${MAX_SAFETENSORS_HEADER_BYTES} bytes`);
    const headerBytes = Buffer.alloc(Number(headerLength));
    await handle.read(headerBytes, 0, headerBytes.length, 8);
    let parsed: unknown;
    try {
      parsed = JSON.parse(headerBytes.toString('utf8'));
    } catch {
      bad(path, 'header is not valid JSON; the file is truncated or not safetensors');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      bad(path, 'header is not a JSON object; is this a safetensors file?');
    const dataStart = 8 + headerBytes.length;
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (name !== '__metadata__') {
        entries.set(name, parseEntry(path, name, value, dataStart, size - dataStart));
        continue;
      }
      if (
        typeof value !== 'object' ||
        value === null ||
        Array.isArray(value) ||
        !Object.values(value).every((text) => typeof text === 'string')
      )
        bad(path, '__metadata__ is not an object of strings');
      metadata = value as Record<string, string>;
    }
    checkTiling(path, entries.values(), dataStart, size);
    const recorded = metadata[HEADER_KEY];
    const relative = [...entries.values()].map((entry) => ({
      ...entry,
      start: entry.start - dataStart,
      end: entry.end - dataStart,
    }));
    if (recorded !== undefined && recorded !== headerChecksum(relative, metadata))
      bad(path, 'the tensor list or metadata differs from what was recorded at save: the header is corrupt');
    return { entries, metadata };
  } finally {
    await handle.close();
  }
}

/**
 * The data checksum a header records (8 hex digits, the CRC-32 of the whole data section), or
 * `undefined` when it has none.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` when the recorded value is not 8 hex digits
 */
export function recordedChecksum(path: string, header: SafetensorsHeader): string | undefined {
  return recordedHex(path, header, CHECKSUM_KEY);
}

/**
 * The recorded CRC-32 of the values the data decodes to (see {@link writeSafetensors}), or
 * `undefined` when the file has none or this host is big-endian; valid once the data checksum is.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` when it is not 8 hex digits
 */
export function recordedValuesChecksum(path: string, header: SafetensorsHeader): number | undefined {
  const recorded = recordedHex(path, header, VALUES_CHECKSUM_KEY);
  return recorded === undefined || !LITTLE_ENDIAN ? undefined : Number.parseInt(recorded, 16);
}

/** Metadata `key` of `header`, checked to be 8 hex digits. */
function recordedHex(path: string, header: SafetensorsHeader, key: string): string | undefined {
  const value = header.metadata[key];
  if (value !== undefined && !/^[0-9a-f]{8}$/.test(value))
    bad(path, `metadata ${key} is ${JSON.stringify(value)}, expected 8 hex digits`);
  return value;
}

/**
 * Throws unless `found`, the CRC-32 of a file's whole data section, is the `expected` one its header records.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` naming the file and both checksums
 */
export function checkDataChecksum(path: string, found: number, expected: string): void {
  const hex = (found >>> 0).toString(16).padStart(8, '0');
  if (hex !== expected)
    bad(path, `data checksum ${hex} differs from the recorded ${expected}: the file is corrupt`);
}

/**
 * Streams the tensors of a safetensors file as float32, in file order, one at a time. When the
 * file carries this library's data checksum (every file it writes does), the whole data section is
 * hashed, wanted or not, and checked after the last tensor; a consumer must not keep what it read
 * until the stream has ended without an error.
 *
 * @param path - the `.safetensors` file
 * @param wanted - names to read (others are skipped, or only hashed); all when omitted
 * @throws {@link SLMError} `BAD_CHECKPOINT` for a malformed file, an unsupported dtype or a checksum mismatch
 * @example
 * ```ts
 * for await (const [name, { shape, data }] of readSafetensors('model.safetensors')) console.log(name, shape);
 * ```
 */
export async function* readSafetensors(
  path: string,
  wanted?: ReadonlySet<string>,
): AsyncGenerator<[string, NamedWeight]> {
  const header = await readSafetensorsHeader(path);
  const expected = recordedChecksum(path, header);
  const ordered = [...header.entries.values()].sort((a, b) => a.start - b.start);
  const read = new Set(ordered.filter((entry) => wanted === undefined || wanted.has(entry.name)));
  for (const entry of read) {
    if (!(entry.dtype in DTYPE_BYTES))
      bad(path, `tensor '${entry.name}' has dtype ${entry.dtype}; supported: F32, F16, BF16`);
  }
  const handle = await open(path, 'r');
  try {
    let checksum = 0;
    // One file buffer for every tensor: decoding copies out of it before the next read, so a
    // 1.1 B checkpoint leaves no gigabytes of read buffers for the garbage collector.
    let scratch = Buffer.allocUnsafe(0);
    for (const entry of ordered) {
      if (read.has(entry)) {
        if (scratch.byteLength < entry.end - entry.start)
          scratch = Buffer.allocUnsafe(entry.end - entry.start);
        const bytes = scratch.subarray(0, entry.end - entry.start);
        const { bytesRead } = await handle.read(bytes, 0, bytes.byteLength, entry.start);
        if (bytesRead !== bytes.byteLength) bad(path, `tensor '${entry.name}' ends past the end of the file`);
        checksum = continueCrc32(bytes, checksum);
        yield [entry.name, { shape: entry.shape, data: decodeFloats(bytes, entry.dtype as TensorDtype) }];
      } else if (expected !== undefined) {
        for (let position = entry.start; position < entry.end; position += CHECKSUM_CHUNK_BYTES) {
          const bytes = Buffer.alloc(Math.min(CHECKSUM_CHUNK_BYTES, entry.end - position));
          await handle.read(bytes, 0, bytes.byteLength, position);
          checksum = continueCrc32(bytes, checksum);
        }
      }
    }
    if (expected !== undefined) checkDataChecksum(path, checksum, expected);
  } finally {
    await handle.close();
  }
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions extends WriteTensorsOptions {
  /** Storage dtype. @default 'F32' */
  dtype?: 'F32' | 'BF16';
  /** Extra string metadata. */
  metadata?: Record<string, string>;
}

/**
 * Writes tensors to a safetensors file that Hugging Face libraries load unchanged, atomically, one
 * tensor at a time (`read` is called once per tensor). The metadata records `format: "pt"`, a
 * CRC-32 of the data section, a CRC-32 of the tensor list (names, dtypes, shapes, offsets) and,
 * on little-endian hosts, a CRC-32 of the float32 values the data decodes to (for F32 the data
 * checksum itself; see {@link recordedValuesChecksum}).
 *
 * @param path - the file to create or replace
 * @param specs - names and shapes, in the order to write
 * @param read - float32 values of one tensor, row-major
 * @param options - see {@link WriteSafetensorsOptions}
 * @example
 * ```ts
 * await writeSafetensors('w.safetensors', [{ name: 'w', shape: [2] }], async () => new Float32Array([1, 2]));
 * ```
 */
export async function writeSafetensors(
  path: string,
  specs: readonly { name: string; shape: number[] }[],
  read: (name: string) => Promise<Float32Array>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  const header: Record<string, unknown> = {};
  const layout: { name: string; dtype: string; shape: number[]; start: number; end: number }[] = [];
  let offset = 0;
  for (const { name, shape } of specs) {
    const byteLength = elementCount(shape) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + byteLength] };
    layout.push({ name, dtype, shape, start: offset, end: offset + byteLength });
    offset += byteLength;
  }
  const hex = (crc: number) => (crc >>> 0).toString(16).padStart(8, '0');
  const headerBytes = (checksum: number, valuesChecksum: number) => {
    const metadata = {
      format: 'pt',
      ...options.metadata,
      [CHECKSUM_KEY]: hex(checksum),
      ...(LITTLE_ENDIAN ? { [VALUES_CHECKSUM_KEY]: hex(valuesChecksum) } : {}),
    };
    Object.assign(metadata, { [HEADER_KEY]: headerChecksum(layout, metadata) });
    const json = JSON.stringify({ __metadata__: metadata, ...header });
    const padded = json + ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
    const bytes = Buffer.alloc(8 + Buffer.byteLength(padded));
    bytes.writeBigUInt64LE(BigInt(Buffer.byteLength(padded)), 0);
    bytes.write(padded, 8, 'utf8');
    return bytes;
  };
  const dataStart = headerBytes(0, 0).byteLength; // the checksums have a fixed width
  const readChecked = async (index: number) => {
    const { name, shape } = specs[index]!;
    const values = await read(name);
    if (values.length !== elementCount(shape)) {
      throw new SLMError(
        'SHAPE_MISMATCH',
        `writeSafetensors: tensor '${name}' has ${values.length} values for shape [${shape}].`,
      );
    }
    return values;
  };
  await writeFileAtomic(path, async (handle) => {
    let checksum = 0;
    let valuesChecksum = 0;
    if (LITTLE_ENDIAN) {
      // Encoded, hashed and written by worker threads (parallelWrite.ts) as `read` makes the values.
      const places = layout.map(({ shape, start }) => ({
        position: dataStart + start,
        length: elementCount(shape),
      }));
      const written = await writeTensors(handle.fd, places, dtype, readChecked, options);
      written.forEach(({ crc, valuesCrc }, i) => {
        checksum = combineCrc32(checksum, crc, layout[i]!.end - layout[i]!.start);
        valuesChecksum = combineCrc32(valuesChecksum, valuesCrc, 4 * places[i]!.length);
      });
    } else {
      for (const [index, { start }] of layout.entries()) {
        const bytes = encodeFloats(await readChecked(index), dtype);
        checksum = continueCrc32(bytes, checksum);
        await writeAll(handle, bytes, dataStart + start);
      }
    }
    await writeAll(handle, headerBytes(checksum, valuesChecksum), 0);
  });
}
