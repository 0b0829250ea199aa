// Fixed-size little-endian file headers with a magic, a version and a CRC-32 of the header
// itself, shared by token and score files. Readers fail with the file name and what is wrong.
import { type FileHandle, open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { SLMError } from '../core/errors.js';

/** One header field: a name and its type. */
export type HeaderField = readonly [name: string, type: 'u32' | 'u64' | 'ascii32'];

/** Bytes a header takes: 8 magic + 4 version + fields + 4 header CRC. */
export function headerSize(fields: readonly HeaderField[]): number {
  return 16 + fields.reduce((size, [, type]) => size + (type === 'u32' ? 4 : type === 'u64' ? 8 : 32), 0);
}

/** Serialises `values` after the 8-byte `magic` and `version`, ending with the header's CRC-32. */
export function encodeHeader(
  magic: string,
  version: number,
  fields: readonly HeaderField[],
  values: Record<string, number | string>,
): Buffer {
  const buffer = Buffer.alloc(headerSize(fields));
  buffer.write(magic, 0, 8, 'ascii');
  buffer.writeUInt32LE(version, 8);
  let offset = 12;
  for (const [name, type] of fields) {
    const value = values[name]!;
    if (type === 'u32') buffer.writeUInt32LE(value as number, offset);
    else if (type === 'u64') buffer.writeBigUInt64LE(BigInt(value), offset);
    else buffer.write(String(value).padEnd(32, '\0').slice(0, 32), offset, 32, 'ascii');
    offset += type === 'u32' ? 4 : type === 'u64' ? 8 : 32;
  }
  buffer.writeUInt32LE(crc32(buffer.subarray(0, offset)), offset);
  return buffer;
}

/** Parses and checks a header; throws BAD_CHECKPOINT naming `path` and the problem, with a hint. */
export function decodeHeader(
  path: string,
  bytes: Buffer,
  magic: string,
  version: number,
  fields: readonly HeaderField[],
): Record<string, number | string> {
  const fail = (problem: string): never => {
    throw new SLMError('BAD_CHECKPOINT', `${path}: ${problem}`);
  };
  const size = headerSize(fields);
  if (bytes.length < size)
    fail(`file is ${bytes.length} bytes, shorter than its ${size}-byte header (truncated?)`);
  if (bytes.toString('ascii', 0, 8) !== magic)
    fail(`not a ${magic} file (magic "${bytes.toString('ascii', 0, 8)}"); wrong file?`);
  if (bytes.readUInt32LE(8) !== version)
    fail(`format version ${bytes.readUInt32LE(8)}, this library reads ${version}`);
  if (crc32(bytes.subarray(0, size - 4)) !== bytes.readUInt32LE(size - 4))
    fail('header checksum mismatch: the header is corrupt');
  const values: Record<string, number | string> = {};
  let offset = 12;
  for (const [name, type] of fields) {
    if (type === 'u32') values[name] = bytes.readUInt32LE(offset);
    else if (type === 'u64') values[name] = Number(bytes.readBigUInt64LE(offset));
    else values[name] = bytes.toString('ascii', offset, offset + 32).replace(/\0+$/, '');
    offset += type === 'u32' ? 4 : type === 'u64' ? 8 : 32;
  }
  return values;
}

/**
 * Opens `path`, decodes and checks its header, and checks the file size against
 * `payloadBytes(header)`; closes the file and throws BAD_CHECKPOINT (naming it) on any problem.
 */
export async function openWithHeader(
  path: string,
  magic: string,
  version: number,
  fields: readonly HeaderField[],
  payloadBytes: (values: Record<string, number | string>) => number,
): Promise<{ handle: FileHandle; values: Record<string, number | string> }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(Math.min(size, headerSize(fields)));
    await handle.read(header, 0, header.length, 0);
    const values = decodeHeader(path, header, magic, version, fields);
    const expected = headerSize(fields) + payloadBytes(values);
    if (size !== expected) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${path}: file is ${size} bytes, its header promises ${expected} (${size < expected ? 'truncated' : 'trailing bytes'}).`,
      );
    }
    return { handle, values };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
