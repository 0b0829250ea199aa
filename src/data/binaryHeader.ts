// Fixed-size little-endian file headers with a magic, a version and a CRC-32 of the header
// itself, shared by token and score files. Readers fail with the file name and what is wrong.
import { type FileHandle, open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { SLMError } from '../core/errors.js';

/** One header field: a name and its type. */
export type HeaderField = readonly [name: string, type: 'u32' | 'u64' | 'ascii32'];

/** A binary file format: its magic, version, header fields and the checks on their values. */
export interface BinaryFormat {
  /** 8 ASCII bytes at the start of every file. */
  magic: string;
  /** Format version this library reads and writes. */
  version: number;
  /** Header fields after magic and version. */
  fields: readonly HeaderField[];
  /** What the file is, for messages: `'a token file (written by rho-slm prepare)'`. */
  kind: string;
  /** What is wrong with decoded header values, or `undefined` when they are consistent. */
  check: (values: Record<string, number | string>) => string | undefined;
}

/** Other kinds of files by their first bytes (latin1), so a wrong file is named for what it is. */
const KNOWN_KINDS: readonly [string, string][] = [
  ['RHOSLMTK', 'a token file'],
  ['RHOSLMSC', 'a score file'],
  ['GGUF', 'a GGUF model'],
  ['PK\u0003\u0004', 'a zip archive'],
  ['\u001f\u008b', 'a gzip archive'],
];

/** A readable description of a file's kind from its first bytes. */
function describeKind(bytes: Buffer): string {
  if (bytes.length === 0) return 'an empty file';
  const start = bytes.toString('latin1', 0, Math.min(bytes.length, 16));
  for (const [prefix, kind] of KNOWN_KINDS) if (start.startsWith(prefix)) return kind;
  if (/^\s*[{[]/.test(start)) return 'JSON or JSONL text';
  if (bytes.length >= 9 && bytes[8] === 0x7b) return 'a safetensors file';
  const printable = [...bytes.subarray(0, 64)].every(
    (b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127),
  );
  return printable ? 'text' : 'binary data of another kind';
}

/** Bytes a header takes: 8 magic + 4 version + fields + 4 header CRC. */
export function headerSize(fields: readonly HeaderField[]): number {
  return 16 + fields.reduce((size, [, type]) => size + (type === 'u32' ? 4 : type === 'u64' ? 8 : 32), 0);
}

/** Serialises `values` after the 8-byte `magic` and `version`, ending with the header's CRC-32. */
export function encodeHeader(format: BinaryFormat, values: Record<string, number | string>): Buffer {
  const buffer = Buffer.alloc(headerSize(format.fields));
  buffer.write(format.magic, 0, 8, 'ascii');
  buffer.writeUInt32LE(format.version, 8);
  let offset = 12;
  for (const [name, type] of format.fields) {
    const value = values[name]!;
    if (type === 'u32') buffer.writeUInt32LE(value as number, offset);
    else if (type === 'u64') buffer.writeBigUInt64LE(BigInt(value), offset);
    else buffer.write(String(value).padEnd(32, '\0').slice(0, 32), offset, 32, 'ascii');
    offset += type === 'u32' ? 4 : type === 'u64' ? 8 : 32;
  }
  buffer.writeUInt32LE(crc32(buffer.subarray(0, offset)), offset);
  return buffer;
}

/**
 * Parses and checks a header: `BAD_FILE` when `bytes` are not this format at all (naming what they
 * look like), `BAD_CHECKPOINT` for a short, corrupt or inconsistent header; both name `path`.
 */
export function decodeHeader(
  path: string,
  bytes: Buffer,
  format: BinaryFormat,
): Record<string, number | string> {
  const fail = (problem: string): never => {
    throw new SLMError('BAD_CHECKPOINT', `${path}: ${problem}`);
  };
  const size = headerSize(format.fields);
  if (
    bytes.toString('latin1', 0, Math.min(8, bytes.length)) !==
      format.magic.slice(0, Math.min(8, bytes.length)) ||
    bytes.length === 0
  ) {
    throw new SLMError('BAD_FILE', `${path} is ${describeKind(bytes)}, not ${format.kind}.`);
  }
  if (bytes.length < size)
    fail(`file is ${bytes.length} bytes, shorter than its ${size}-byte header (truncated?)`);
  if (bytes.readUInt32LE(8) !== format.version)
    fail(`format version ${bytes.readUInt32LE(8)}, this library reads ${format.version}`);
  if (crc32(bytes.subarray(0, size - 4)) !== bytes.readUInt32LE(size - 4))
    fail('header checksum mismatch: the header is corrupt');
  const values: Record<string, number | string> = {};
  let offset = 12;
  for (const [name, type] of format.fields) {
    if (type === 'u32') values[name] = bytes.readUInt32LE(offset);
    else if (type === 'u64') {
      const value = bytes.readBigUInt64LE(offset);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`header field ${name} is ${value}, beyond 2^53`);
      values[name] = Number(value);
    } else values[name] = bytes.toString('latin1', offset, offset + 32).replace(/\0+$/, '');
    offset += type === 'u32' ? 4 : type === 'u64' ? 8 : 32;
  }
  const problem = format.check(values);
  if (problem !== undefined) fail(`header ${problem}`);
  return values;
}

/**
 * Opens `path`, decodes and checks its header, and checks the file size against
 * `payloadBytes(header)`; closes the file and throws (naming it) on any problem.
 */
export async function openWithHeader(
  path: string,
  format: BinaryFormat,
  payloadBytes: (values: Record<string, number | string>) => number,
): Promise<{ handle: FileHandle; values: Record<string, number | string> }> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new SLMError('BAD_FILE', `${path} is a directory, not ${format.kind}.`);
    const header = Buffer.alloc(Math.min(info.size, headerSize(format.fields)));
    await handle.read(header, 0, header.length, 0);
    const values = decodeHeader(path, header, format);
    const expected = headerSize(format.fields) + payloadBytes(values);
    if (info.size !== expected) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${path}: file is ${info.size} bytes, its header promises ${expected} (${info.size < expected ? 'truncated' : 'trailing bytes'}).`,
      );
    }
    return { handle, values };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
