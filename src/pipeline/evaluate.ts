// Held-out quality: mean token loss, perplexity and bits per byte over every window of a corpus.
import { byteTokenizer, type Tokenizer } from '../data/byteTokenizer.js';
import { readWindows, windowCount } from '../data/windows.js';
import type { LlamaModel } from '../model/llama.js';
import { withInferenceModel } from './inferenceModel.js';
import { openTokens } from './openTokens.js';
import { windowLosses } from './tokenLosses.js';

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** The model, or its checkpoint directory. */
  model: LlamaModel | string;
  /** The held-out token file. */
  data: string;
  /** Window length. @default the model's max_position_embeddings */
  seqLen?: number;
  /** Windows per forward pass. @default 8 */
  batchSize?: number;
  /** Evaluate only the first windows. @default all */
  maxWindows?: number;
  /** The tokenizer `data` was prepared with (its fingerprint is checked). @default byteTokenizer() */
  tokenizer?: Tokenizer;
}

/** Held-out metrics. */
export interface EvaluateResult {
  /** Mean next-token loss in nats over every target position. */
  loss: number;
  /** `exp(loss)`. */
  perplexity: number;
  /** Total loss in bits divided by the UTF-8 bytes the targets stand for (per the tokenizer). */
  bitsPerByte: number;
  /** Target positions evaluated. */
  tokens: number;
}

/** UTF-8 bytes `ids` stand for: the tokenizer's count, or the bytes of their decoded text. */
function bytesOf(tokenizer: Tokenizer, ids: ArrayLike<number>): number {
  return tokenizer.byteLength?.(ids) ?? Buffer.byteLength(tokenizer.decode(ids));
}

/**
 * Evaluates a model on every window of a token file. Bits per byte divide by the bytes the targets
 * stand for, counted per window by the tokenizer (exact for the byte tokenizer; for others, the
 * bytes of each window's decoded text).
 *
 * @throws {@link SLMError} `BAD_OPTION` when `data` was prepared with another tokenizer or
 *   vocabulary; `BAD_FILE`, `BAD_CHECKPOINT` for a wrong or corrupt file
 * @example
 * ```ts
 * const { loss, perplexity, bitsPerByte } = await evaluateModel({ model: 'slm/', data: 'heldout.tok' });
 * ```
 */
export async function evaluateModel(options: EvaluateOptions): Promise<EvaluateResult> {
  const tokenizer = options.tokenizer ?? byteTokenizer();
  return withInferenceModel(options.model, async (model) => {
    const file = await openTokens(options.data, model.config.vocab_size, tokenizer.fingerprint);
    try {
      const seqLen = options.seqLen ?? model.config.max_position_embeddings;
      const batchSize = options.batchSize ?? 8;
      const windows = Math.min(
        windowCount(file.info.tokenCount, seqLen),
        options.maxWindows ?? Number.POSITIVE_INFINITY,
      );
      let nats = 0;
      let tokens = 0;
      let bytes = 0;
      for (let first = 0; first < windows; first += batchSize) {
        const ids = Array.from({ length: Math.min(batchSize, windows - first) }, (_, i) => first + i);
        const batch = await readWindows(file, ids, seqLen);
        const losses = await windowLosses(model, batch, seqLen);
        for (let i = 0; i < losses.length; i++) nats += losses[i]!;
        tokens += losses.length;
        for (let row = 0; row < ids.length; row++)
          bytes += bytesOf(tokenizer, batch.targets.subarray(row * seqLen, (row + 1) * seqLen));
      }
      const loss = tokens === 0 ? 0 : nats / tokens;
      return {
        loss,
        perplexity: Math.exp(loss),
        bitsPerByte: bytes === 0 ? 0 : nats / Math.LN2 / bytes,
        tokens,
      };
    } finally {
      await file.close();
    }
  });
}
