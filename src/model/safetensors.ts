// The safetensors format (Hugging Face): 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets}} plus __metadata__, then raw little-endian tensor bytes.
// Read and written one tensor at a time, so a checkpoint is never held twice in memory.
import { open } from 'node:fs/promises';
import { SLMError } from '../core/errors.js';
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';
import { continueCrc32 } from '../io/checksum.js';
import { DTYPE_BYTES, decodeFloats, encodeFloats, type TensorDtype } from '../io/dtypes.js';
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

function bad(path: string, problem: string): never {
  throw new SLMError('BAD_CHECKPOINT', `${path}: ${problem}`);
}

/**
 * Reads and checks a safetensors header (offsets inside the file, sizes matching dtype × shape).
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
    await handle.read(prefix, 0, 8, 0);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (size < 8 || headerLength <= 1 || 8 + headerLength > size) {
      bad(path, `header length ${headerLength} does not fit in ${size} bytes; is this a safetensors file?`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      bad(path, 'header is not valid JSON; the file is truncated or not safetensors');
    }
    const dataStart = 8 + headerLength;
    const entries = new Map<string, SafetensorsEntry>();
    for (const [name, value] of Object.entries(parsed)) {
      if (name === '__metadata__') continue;
      const {
        dtype,
        shape,
        data_offsets: offsets,
      } = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const elements = Array.isArray(shape) ? shape.reduce((a, b) => a * b, 1) : Number.NaN;
      const bytes = DTYPE_BYTES[dtype as TensorDtype];
      if (!Array.isArray(offsets) || !(offsets[0] <= offsets[1]) || dataStart + offsets[1] > size) {
        bad(
          path,
          `tensor '${name}' has data offsets ${JSON.stringify(offsets)} outside the ${size - dataStart} data bytes (truncated file?)`,
        );
      }
      if (bytes !== undefined && offsets[1] - offsets[0] !== elements * bytes) {
        bad(
          path,
          `tensor '${name}' (${dtype} [${shape}]) spans ${offsets[1] - offsets[0]} bytes, expected ${elements * bytes}`,
        );
      }
      entries.set(name, { name, dtype, shape, start: dataStart + offsets[0], end: dataStart + offsets[1] });
    }
    return { entries, metadata: (parsed.__metadata__ ?? {}) as Record<string, string> };
  } finally {
    await handle.close();
  }
}

/**
 * Streams the tensors of a safetensors file as float32, in file order, one at a time. When the
 * file carries this library's data checksum, it is verified after the last tensor.
 *
 * @param path - the `.safetensors` file
 * @param wanted - names to read (others are skipped, and so is the checksum); all when omitted
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
  const expected = header.metadata[CHECKSUM_KEY];
  const handle = await open(path, 'r');
  try {
    let checksum = 0;
    const ordered = [...header.entries.values()].sort((a, b) => a.start - b.start);
    for (const entry of ordered) {
      if (wanted !== undefined && !wanted.has(entry.name)) continue;
      if (!(entry.dtype in DTYPE_BYTES))
        bad(path, `tensor '${entry.name}' has dtype ${entry.dtype}; supported: F32, F16, BF16`);
      const bytes = Buffer.alloc(entry.end - entry.start);
      await handle.read(bytes, 0, bytes.byteLength, entry.start);
      checksum = continueCrc32(bytes, checksum);
      yield [entry.name, { shape: entry.shape, data: decodeFloats(bytes, entry.dtype as TensorDtype) }];
    }
    if (
      expected !== undefined &&
      wanted === undefined &&
      checksum.toString(16).padStart(8, '0') !== expected
    ) {
      bad(
        path,
        `data checksum ${checksum.toString(16).padStart(8, '0')} differs from the recorded ${expected}: the file is corrupt`,
      );
    }
  } finally {
    await handle.close();
  }
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** Storage dtype. @default 'F32' */
  dtype?: 'F32' | 'BF16';
  /** Extra string metadata. */
  metadata?: Record<string, string>;
}

/**
 * Writes tensors to a safetensors file that Hugging Face libraries load unchanged, atomically, one
 * tensor at a time (`read` is called once per tensor). The metadata records `format: "pt"` and a
 * CRC-32 of the data section.
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
  let offset = 0;
  for (const { name, shape } of specs) {
    const byteLength = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  }
  const headerBytes = (checksum: number) => {
    const metadata = {
      format: 'pt',
      ...options.metadata,
      [CHECKSUM_KEY]: checksum.toString(16).padStart(8, '0'),
    };
    const json = JSON.stringify({ __metadata__: metadata, ...header });
    const padded = json + ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
    const bytes = Buffer.alloc(8 + Buffer.byteLength(padded));
    bytes.writeBigUInt64LE(BigInt(Buffer.byteLength(padded)), 0);
    bytes.write(padded, 8, 'utf8');
    return bytes;
  };
  const dataStart = headerBytes(0).byteLength; // the checksum has a fixed width
  await writeFileAtomic(path, async (handle) => {
    let position = dataStart;
    let checksum = 0;
    for (const { name, shape } of specs) {
      const values = await read(name);
      if (values.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new SLMError(
          'SHAPE_MISMATCH',
          `writeSafetensors: tensor '${name}' has ${values.length} values for shape [${shape}].`,
        );
      }
      const bytes = encodeFloats(values, dtype);
      checksum = continueCrc32(bytes, checksum);
      await writeAll(handle, bytes, position);
      position += bytes.byteLength;
    }
    await writeAll(handle, headerBytes(checksum), 0);
  });
}
