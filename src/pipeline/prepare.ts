// Step 0: text files, folders and JSONL into a token file.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SLMError } from '../core/errors.js';
import { byteTokenizer, type Tokenizer } from '../data/byteTokenizer.js';
import { type TokenFileInfo, TokenFileWriter } from '../data/tokenFile.js';

/** Options of {@link prepareCorpus}. */
export interface PrepareOptions {
  /** Text files (one document each), `.jsonl` files (one document per line), or folders of them. */
  inputs: readonly string[];
  /** The token file to write. */
  out: string;
  /** @default byteTokenizer() */
  tokenizer?: Tokenizer;
  /** JSONL field that holds the text. @default 'text' */
  field?: string;
  /** Called after each document with the bytes and documents read so far. */
  onProgress?: (bytesRead: number, documents: number) => void;
}

async function* files(path: string): AsyncGenerator<string> {
  const info = await stat(path).catch(() => {
    throw new SLMError('BAD_OPTION', `prepare: input '${path}' does not exist.`);
  });
  if (!info.isDirectory()) {
    yield path;
    return;
  }
  for (const entry of (await readdir(path)).sort()) yield* files(join(path, entry));
}

async function* documents(path: string, field: string): AsyncGenerator<string> {
  if (!path.endsWith('.jsonl')) {
    yield await readFile(path, 'utf8');
    return;
  }
  let line = 0;
  for await (const text of createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    line++;
    if (text.trim() === '') continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SLMError('BAD_OPTION', `prepare: ${path}:${line} is not valid JSON.`);
    }
    if (typeof record[field] !== 'string')
      throw new SLMError('BAD_OPTION', `prepare: ${path}:${line} has no string field '${field}'.`);
    yield record[field] as string;
  }
}

/**
 * Tokenises every document of `inputs` into one token file (documents separated by EOS), written
 * streaming and atomically.
 *
 * @returns the token file's header
 * @throws {@link SLMError} `BAD_OPTION` for a missing input or malformed JSONL
 * @example
 * ```ts
 * await prepareCorpus({ inputs: ['clean/'], out: 'clean.tok' });
 * ```
 */
export async function prepareCorpus(options: PrepareOptions): Promise<TokenFileInfo> {
  const tokenizer = options.tokenizer ?? byteTokenizer();
  const writer = await TokenFileWriter.create(options.out, {
    vocabSize: tokenizer.vocabSize,
    eosId: tokenizer.eosId,
    tokenizer: tokenizer.fingerprint,
  });
  let bytesRead = 0;
  let count = 0;
  try {
    for (const input of options.inputs) {
      for await (const path of files(input)) {
        for await (const text of documents(path, options.field ?? 'text')) {
          await writer.append(tokenizer.encode(text));
          bytesRead += Buffer.byteLength(text);
          options.onProgress?.(bytesRead, ++count);
        }
      }
    }
    return await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
