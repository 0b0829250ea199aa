// The built-in tokenizer: UTF-8 bytes, with ids laid out as Llama's SentencePiece byte fallback.

/** What every tokenizer offers the pipeline. */
export interface Tokenizer {
  /** Number of ids, `V`. */
  readonly vocabSize: number;
  /** Id that ends a document (separates documents in token files). */
  readonly eosId: number;
  /** Id that starts a document. */
  readonly bosId: number;
  /** Identifies the tokenizer and its version: token files record it, and readers compare it. */
  readonly fingerprint: string;
  /** Token ids of `text` (no BOS/EOS added). */
  encode(text: string): number[];
  /** Text of `ids` (special ids are skipped). */
  decode(ids: ArrayLike<number>): string;
  /**
   * UTF-8 bytes of the text `ids` stand for (special ids count 0), for bits per byte. When absent,
   * the bytes of `decode(ids)` are counted.
   */
  byteLength?(ids: ArrayLike<number>): number;
}

/** Ids of the byte tokenizer: 0 `<unk>`, 1 `<s>`, 2 `</s>`, then byte b at 3 + b. */
export const BYTE_OFFSET = 3;

/**
 * A byte-level tokenizer: every UTF-8 byte is one token, `V = 259` (3 specials + 256 bytes),
 * matching the `nano` and `demo` presets and GGUF export. Needs no files.
 *
 * @example
 * ```ts
 * const tokenizer = byteTokenizer();
 * tokenizer.encode('hé'); // [107, 198, 172]
 * ```
 */
export function byteTokenizer(): Tokenizer {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return {
    vocabSize: 256 + BYTE_OFFSET,
    eosId: 2,
    bosId: 1,
    fingerprint: 'rho-slm/byte/v1',
    encode: (text) => Array.from(encoder.encode(text), (byte) => byte + BYTE_OFFSET),
    decode: (ids) => {
      const bytes: number[] = [];
      for (let i = 0; i < ids.length; i++) if (ids[i]! >= BYTE_OFFSET) bytes.push(ids[i]! - BYTE_OFFSET);
      return decoder.decode(new Uint8Array(bytes));
    },
    byteLength: (ids) => {
      let bytes = 0;
      for (let i = 0; i < ids.length; i++) if (ids[i]! >= BYTE_OFFSET) bytes++;
      return bytes;
    },
  };
}
