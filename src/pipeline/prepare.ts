// Step 0: text files, folders and JSONL into a token file.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SLMError } from '../core/errors.js';
import { byteTokenizer, type Tokenizer } from '../data/byteTokenizer.js';
import { readJsonl } from '../data/jsonl.js';
import { type TokenFileInfo, TokenFileWriter } from '../data/tokenFile.js';
import { firstExisting, isOutputCompanion, lockOutput } from './outputGuard.js';

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
  /** Replace `out` when it exists (otherwise that is an error). @default false */
  force?: boolean;
  /** Stops at the next piece of text; nothing is written. */
  signal?: AbortSignal;
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

/** A document as pieces of text: a text file in ~1 MB pieces cut at line breaks, a JSONL record whole. */
async function* documents(path: string, field: string): AsyncGenerator<AsyncIterable<string>> {
  if (!path.endsWith('.jsonl')) {
    yield textPieces(path);
    return;
  }
  for await (const { line, record } of readJsonl(path, 'prepare')) {
    const text = record[field];
    if (typeof text !== 'string')
      throw new SLMError('BAD_OPTION', `prepare: ${path}:${line} has no string field '${field}'.`);
    yield (async function* () {
      yield text;
    })();
  }
}

/** A text file streamed in pieces that end at a line break (so tokenizers see whole lines). */
async function* textPieces(path: string): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    pending += chunk as string;
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) continue;
    yield pending.slice(0, cut + 1);
    pending = pending.slice(cut + 1);
  }
  if (pending !== '') yield pending;
}

/**
 * Tokenises every document of `inputs` into one token file (documents separated by EOS), streaming:
 * text files are read in pieces of about 1 MB that end at a line break (a tokenizer that merges
 * across line breaks may split a few tokens differently from encoding the whole file at once; the
 * byte tokenizer is exact), JSONL one record at a time. Written atomically.
 *
 * @returns the token file's header
 * @throws {@link SLMError} `BAD_OPTION` for a missing input or malformed JSONL; `OUTPUT_EXISTS`
 *   when `out` exists and `force` is not set; `OUTPUT_LOCKED` while another run writes `out`;
 *   `INTERRUPTED` when stopped by `signal` (nothing is written)
 * @example
 * ```ts
 * await prepareCorpus({ inputs: ['clean/'], out: 'clean.tok' });
 * ```
 */
export async function prepareCorpus(options: PrepareOptions): Promise<TokenFileInfo> {
  if (options.force !== true && (await firstExisting([options.out])) !== undefined)
    throw new SLMError('OUTPUT_EXISTS', `${options.out} already exists; pass --force to replace it.`);
  const lock = await lockOutput(options.out, 'prepare');
  try {
    return await writeCorpus(options);
  } finally {
    await lock.release();
  }
}

async function writeCorpus(options: PrepareOptions): Promise<TokenFileInfo> {
  const tokenizer = options.tokenizer ?? byteTokenizer();
  const writer = await TokenFileWriter.create(options.out, {
    vocabSize: tokenizer.vocabSize,
    eosId: tokenizer.eosId,
    tokenizer: tokenizer.fingerprint,
  });
  const stopped = () => {
    if (options.signal?.aborted === true)
      throw new SLMError('INTERRUPTED', `stopped by the user; nothing was written to ${options.out}.`);
  };
  let bytesRead = 0;
  let count = 0;
  try {
    for (const input of options.inputs) {
      for await (const path of files(input)) {
        // The file being written, when it lies inside an input folder:
        if (isOutputCompanion(resolve(path), resolve(options.out))) continue;
        for await (const pieces of documents(path, options.field ?? 'text')) {
          for await (const text of pieces) {
            stopped();
            await writer.appendPart(tokenizer.encode(text));
            bytesRead += Buffer.byteLength(text);
          }
          await writer.endDocument();
          options.onProgress?.(bytesRead, ++count);
        }
      }
    }
    stopped();
    return await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
