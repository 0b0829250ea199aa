// JSONL files read one record at a time: each non-blank line must be a JSON object.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { SLMError } from '../core/errors.js';

/** One record of a JSONL file and its 1-based line number. */
export interface JsonlRecord {
  /** Line number in the file. */
  line: number;
  /** The parsed object. */
  record: Record<string, unknown>;
}

/**
 * The records of a JSONL file, streamed (blank lines skipped), so memory stays at one line.
 *
 * @param path - the file
 * @param fn - the function to name in errors
 * @throws {@link SLMError} `BAD_OPTION` naming file and line when a line is not a JSON object
 */
export async function* readJsonl(path: string, fn: string): AsyncGenerator<JsonlRecord> {
  const input = createReadStream(path, 'utf8');
  try {
    yield* records(path, fn, createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }));
  } finally {
    input.destroy(); // closing readline early leaves its input open
  }
}

async function* records(path: string, fn: string, lines: AsyncIterable<string>): AsyncGenerator<JsonlRecord> {
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      throw new SLMError('BAD_OPTION', `${fn}: ${path}:${line} is not valid JSON.`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw new SLMError('BAD_OPTION', `${fn}: ${path}:${line} is not a JSON object.`);
    yield { line, record: record as Record<string, unknown> };
  }
}
