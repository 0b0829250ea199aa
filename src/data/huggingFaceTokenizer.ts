// Any Hugging Face tokenizer.json, loaded offline through @huggingface/tokenizers (optional peer).
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SLMError } from '../core/errors.js';
import { readFileBounded } from '../io/boundedRead.js';
import type { Tokenizer } from './byteTokenizer.js';

interface HuggingFaceTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** Largest tokenizer.json read (real ones are a few megabytes). */
const MAX_TOKENIZER_BYTES = 256 << 20;

/** `bytes` parsed as a JSON object, or BAD_FILE naming `path`. */
function parseObject(path: string, bytes: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new SLMError('BAD_FILE', `${path} is not valid JSON, so not a tokenizer.json.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SLMError('BAD_FILE', `${path} is not a JSON object, so not a tokenizer.json.`);
  return parsed as Record<string, unknown>;
}

/** `tokenizer_config.json` beside the tokenizer, or `{}` when there is none. */
async function readTokenizerConfig(path: string): Promise<Record<string, unknown>> {
  const bytes = await readFileBounded(path, MAX_TOKENIZER_BYTES, 'BAD_FILE').catch((error: unknown) => {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  });
  return bytes === undefined ? {} : parseObject(path, bytes);
}

/**
 * Loads a Hugging Face `tokenizer.json` (and `tokenizer_config.json` beside it, when present) with
 * `@huggingface/tokenizers`, offline. BOS and EOS come from the config (`bos_token`, `eos_token`),
 * defaulting to `<s>` and `</s>`; the fingerprint is a CRC-32 of the file.
 *
 * @param path - a `tokenizer.json`
 * @throws {@link SLMError} `BAD_OPTION` when the package is missing or the file has no EOS token;
 *   `BAD_FILE` for a file that is too large, not JSON, or not a tokenizer the package accepts
 * @example
 * ```ts
 * const tokenizer = await loadHuggingFaceTokenizer('TinyLlama/tokenizer.json');
 * ```
 */
export async function loadHuggingFaceTokenizer(path: string): Promise<Tokenizer> {
  let module: { Tokenizer: new (json: object, config: object) => HuggingFaceTokenizer };
  try {
    module = (await import('@huggingface/tokenizers')) as unknown as typeof module;
  } catch {
    throw new SLMError(
      'BAD_OPTION',
      'Hugging Face tokenizers need the optional package: npm install @huggingface/tokenizers',
    );
  }
  const bytes = await readFileBounded(path, MAX_TOKENIZER_BYTES, 'BAD_FILE');
  const config = await readTokenizerConfig(join(dirname(path), 'tokenizer_config.json'));
  let tokenizer: HuggingFaceTokenizer;
  let vocabulary: Map<string, number>;
  try {
    tokenizer = new module.Tokenizer(parseObject(path, bytes), config);
    vocabulary = tokenizer.get_vocab(true);
  } catch (error) {
    if (error instanceof SLMError) throw error;
    throw new SLMError(
      'BAD_FILE',
      `${path} is not a usable Hugging Face tokenizer.json: ${(error as Error).message}`,
    );
  }
  const ids = [...vocabulary.values()];
  if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0 && id < 2 ** 32))
    throw new SLMError('BAD_FILE', `${path}: the vocabulary is empty or has ids outside [0, 2^32).`);
  const idOf = (token: string | undefined, fallback: string) => vocabulary.get(token ?? fallback);
  const eosId = idOf(tokenText(config.eos_token), '</s>');
  const bosId = idOf(tokenText(config.bos_token), '<s>');
  if (eosId === undefined)
    throw new SLMError(
      'BAD_OPTION',
      `${path}: no EOS token (eos_token in tokenizer_config.json, or '</s>').`,
    );
  return {
    vocabSize: ids.reduce((a, b) => Math.max(a, b), 0) + 1,
    eosId,
    bosId: bosId ?? eosId,
    fingerprint: `hf-${crc32(bytes).toString(16).padStart(8, '0')}`,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(Array.from(ids), { skip_special_tokens: true }),
  };
}
