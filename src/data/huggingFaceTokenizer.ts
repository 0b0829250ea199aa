// Any Hugging Face tokenizer.json, loaded offline through @huggingface/tokenizers (optional peer).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SLMError } from '../core/errors.js';
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

/**
 * Loads a Hugging Face `tokenizer.json` (and `tokenizer_config.json` beside it, when present) with
 * `@huggingface/tokenizers`, offline. BOS and EOS come from the config (`bos_token`, `eos_token`),
 * defaulting to `<s>` and `</s>`; the fingerprint is a CRC-32 of the file.
 *
 * @param path - a `tokenizer.json`
 * @throws {@link SLMError} `BAD_OPTION` when the package is missing or the file has no EOS token
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
  const bytes = await readFile(path);
  const config = (await readFile(join(dirname(path), 'tokenizer_config.json'), 'utf8').then(
    JSON.parse,
    () => ({}),
  )) as Record<string, unknown>;
  const tokenizer = new module.Tokenizer(JSON.parse(bytes.toString('utf8')) as object, config);
  const vocabulary = tokenizer.get_vocab(true);
  const idOf = (token: string | undefined, fallback: string) => vocabulary.get(token ?? fallback);
  const eosId = idOf(tokenText(config.eos_token), '</s>');
  const bosId = idOf(tokenText(config.bos_token), '<s>');
  if (eosId === undefined)
    throw new SLMError(
      'BAD_OPTION',
      `${path}: no EOS token (eos_token in tokenizer_config.json, or '</s>').`,
    );
  return {
    vocabSize: Math.max(...vocabulary.values()) + 1,
    eosId,
    bosId: bosId ?? eosId,
    fingerprint: `hf-${crc32(bytes).toString(16).padStart(8, '0')}`,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(Array.from(ids), { skip_special_tokens: true }),
  };
}
