// Token files: a checked header (magic, version, dtype, vocabulary, tokenizer fingerprint, token and
// document counts, payload CRC-32), then the tokens, documents separated by the EOS id. Written
// streaming and atomically; read with positional reads, so corpora larger than memory work.
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { SLMError } from '../core/errors.js';
import { writeAll } from '../io/atomicFile.js';
import { continueCrc32 } from '../io/checksum.js';
import { type BinaryFormat, encodeHeader, headerSize, openWithHeader } from './binaryHeader.js';

const FORMAT: BinaryFormat = {
  magic: 'RHOSLMTK',
  version: 1,
  fields: [
    ['bytesPerToken', 'u32'],
    ['vocabSize', 'u32'],
    ['eosId', 'u32'],
    ['tokenizer', 'ascii32'],
    ['tokenCount', 'u64'],
    ['documentCount', 'u64'],
    ['payloadCrc', 'u32'],
  ],
  kind: 'a token file (written by rho-slm prepare)',
  check: ({ bytesPerToken, vocabSize, eosId, tokenCount, documentCount }) => {
    if (bytesPerToken !== ((vocabSize as number) <= 65536 ? 2 : 4))
      return `stores ${bytesPerToken} bytes per token for a vocabulary of ${vocabSize}`;
    if (vocabSize === 0 || (eosId as number) >= (vocabSize as number))
      return `has EOS id ${eosId} for a vocabulary of ${vocabSize}`;
    if ((documentCount as number) > (tokenCount as number))
      return `counts ${documentCount} documents in ${tokenCount} tokens`;
    return undefined;
  },
};
/** Bytes before the first token. */
export const TOKEN_HEADER_SIZE = headerSize(FORMAT.fields);
/** Bytes read at a time when verifying. */
const VERIFY_CHUNK_BYTES = 1 << 20;

/** What a token file's header records. */
export interface TokenFileInfo {
  /** 2 (uint16, vocabularies up to 65,536) or 4 (uint32). */
  bytesPerToken: 2 | 4;
  /** Vocabulary size `V` of the tokenizer. */
  vocabSize: number;
  /** Id that separates documents. */
  eosId: number;
  /** Fingerprint of the tokenizer (≤ 32 ASCII characters). */
  tokenizer: string;
  /** Tokens in the file, separators included. */
  tokenCount: number;
  /** Documents in the file. */
  documentCount: number;
  /** CRC-32 of the token bytes. */
  payloadCrc: number;
}

/** Options of {@link TokenFileWriter.create}. */
export interface TokenFileOptions {
  /** Vocabulary size `V`; chooses uint16 or uint32 storage. */
  vocabSize: number;
  /** Id written after every document. */
  eosId: number;
  /** Tokenizer fingerprint (≤ 32 ASCII characters). */
  tokenizer: string;
}

/**
 * Writes a token file document by document into a temporary file beside `path`; `close()` writes
 * the header and renames it into place, so `path` is only ever absent or complete.
 *
 * @example
 * ```ts
 * const writer = await TokenFileWriter.create('corpus.tok', { vocabSize: 259, eosId: 2, tokenizer: 'rho-slm/byte/v1' });
 * await writer.append(tokenizer.encode('first document'));
 * await writer.close();
 * ```
 */
export class TokenFileWriter {
  readonly #path: string;
  readonly #temporary: string;
  readonly #handle: FileHandle;
  readonly #info: TokenFileInfo;
  #position = TOKEN_HEADER_SIZE;

  private constructor(path: string, temporary: string, handle: FileHandle, info: TokenFileInfo) {
    this.#path = path;
    this.#temporary = temporary;
    this.#handle = handle;
    this.#info = info;
  }

  /** Opens a writer for `path`. */
  static async create(path: string, options: TokenFileOptions): Promise<TokenFileWriter> {
    if (!(Number.isInteger(options.vocabSize) && options.vocabSize > 0 && options.vocabSize <= 2 ** 32)) {
      throw new SLMError(
        'BAD_OPTION',
        `TokenFileWriter: \`vocabSize\` is ${options.vocabSize}; expected an integer in [1, 2^32].`,
      );
    }
    const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
    const handle = await open(temporary, 'w');
    const info: TokenFileInfo = {
      bytesPerToken: options.vocabSize <= 65536 ? 2 : 4,
      vocabSize: options.vocabSize,
      eosId: options.eosId,
      tokenizer: options.tokenizer,
      tokenCount: 0,
      documentCount: 0,
      payloadCrc: 0,
    };
    return new TokenFileWriter(path, temporary, handle, info);
  }

  /** Appends one document's tokens and the EOS separator. */
  async append(tokens: ArrayLike<number>): Promise<void> {
    await this.appendPart(tokens);
    await this.endDocument();
  }

  /** Appends tokens to the current document (for documents streamed in pieces). */
  async appendPart(tokens: ArrayLike<number>): Promise<void> {
    const bytes = new Uint8Array(tokens.length * this.#info.bytesPerToken);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (!(Number.isInteger(token) && token >= 0 && token < this.#info.vocabSize)) {
        throw new SLMError(
          'LABEL_OUT_OF_RANGE',
          `TokenFileWriter.append: token ${token} at index ${i} is outside [0, ${this.#info.vocabSize}).`,
        );
      }
      if (this.#info.bytesPerToken === 2) view.setUint16(i * 2, token, true);
      else view.setUint32(i * 4, token, true);
    }
    await writeAll(this.#handle, bytes, this.#position);
    this.#position += bytes.length;
    this.#info.payloadCrc = continueCrc32(bytes, this.#info.payloadCrc);
    this.#info.tokenCount += tokens.length;
  }

  /** Ends the current document with the EOS separator. */
  async endDocument(): Promise<void> {
    await this.appendPart([this.#info.eosId]);
    this.#info.documentCount++;
  }

  /** Writes the header, flushes, and moves the file into place. Returns what was written. */
  async close(): Promise<TokenFileInfo> {
    await writeAll(this.#handle, encodeHeader(FORMAT, { ...this.#info }), 0);
    await this.#handle.sync();
    await this.#handle.close();
    await rename(this.#temporary, this.#path);
    return { ...this.#info };
  }

  /** Discards everything written. */
  async abort(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
    await rm(this.#temporary, { force: true });
  }
}

/**
 * A token file opened for positional reads.
 *
 * @example
 * ```ts
 * const file = await TokenFile.open('corpus.tok');
 * const first = await file.read(0, 1024); // Uint32Array
 * await file.close();
 * ```
 */
export class TokenFile {
  /** The file's path. */
  readonly path: string;
  /** Its header. */
  readonly info: TokenFileInfo;
  readonly #handle: FileHandle;

  private constructor(path: string, info: TokenFileInfo, handle: FileHandle) {
    this.path = path;
    this.info = info;
    this.#handle = handle;
  }

  /**
   * Opens and checks a token file (header checksum and consistency, size). `verify()` also
   * checks the tokens.
   *
   * @throws {@link SLMError} `BAD_FILE` for a file of another kind; `BAD_CHECKPOINT` naming the
   *   file and the problem for a corrupt or truncated one
   */
  static async open(path: string): Promise<TokenFile> {
    const { handle, values } = await openWithHeader(
      path,
      FORMAT,
      (header) => (header.tokenCount as number) * (header.bytesPerToken as number),
    );
    return new TokenFile(path, values as unknown as TokenFileInfo, handle);
  }

  /** Tokens `[start, start + count)` (clamped to the file). */
  async read(start: number, count: number): Promise<Uint32Array> {
    const end = Math.min(this.info.tokenCount, start + count);
    const length = Math.max(0, end - start);
    const bytes = Buffer.alloc(length * this.info.bytesPerToken);
    await this.#handle.read(bytes, 0, bytes.length, TOKEN_HEADER_SIZE + start * this.info.bytesPerToken);
    const tokens = new Uint32Array(length);
    for (let i = 0; i < length; i++)
      tokens[i] = this.info.bytesPerToken === 2 ? bytes.readUInt16LE(i * 2) : bytes.readUInt32LE(i * 4);
    return tokens;
  }

  /**
   * Recomputes the payload checksum and checks every token is below `vocabSize`, reading in chunks.
   *
   * @throws {@link SLMError} `BAD_CHECKPOINT` when the tokens are corrupt
   */
  async verify(): Promise<void> {
    const { bytesPerToken, tokenCount, vocabSize, payloadCrc } = this.info;
    const chunk = Buffer.alloc(Math.min(VERIFY_CHUNK_BYTES, tokenCount * bytesPerToken));
    const end = TOKEN_HEADER_SIZE + tokenCount * bytesPerToken;
    let checksum = 0;
    let largest = 0;
    for (let position = TOKEN_HEADER_SIZE; position < end; position += chunk.length) {
      const length = Math.min(chunk.length, end - position);
      const { bytesRead } = await this.#handle.read(chunk, 0, length, position);
      if (bytesRead !== length)
        throw new SLMError('BAD_CHECKPOINT', `${this.path}: file shrank while reading.`);
      const bytes = chunk.subarray(0, length);
      checksum = continueCrc32(bytes, checksum);
      for (let i = 0; i < length; i += bytesPerToken)
        largest = Math.max(largest, bytesPerToken === 2 ? bytes.readUInt16LE(i) : bytes.readUInt32LE(i));
    }
    if (checksum !== payloadCrc) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${this.path}: token checksum ${checksum.toString(16)} differs from the header's ${payloadCrc.toString(16)}: the tokens are corrupt.`,
      );
    }
    if (tokenCount > 0 && largest >= vocabSize)
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${this.path}: holds token ${largest}, outside its vocabulary of ${vocabSize}.`,
      );
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}
