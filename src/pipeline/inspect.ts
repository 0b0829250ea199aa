// What selective training sees in one window: each token's model loss, reference loss, excess
// loss, and whether the top-k rule selects it (as in the Rho-1 paper's Figure 2).
import { SLMError } from '../core/errors.js';
import { DEFAULT_RATIO } from '../core/selectionSettings.js';
import { byteTokenizer, type Tokenizer } from '../data/byteTokenizer.js';
import { ScoreFile } from '../data/scoreFile.js';
import { readWindows, windowCount } from '../data/windows.js';
import type { LlamaModel } from '../model/llama.js';
import { withInferenceModel } from './inferenceModel.js';
import { type InspectedToken, inspectTokens } from './inspectedTokens.js';
import { openTokens } from './openTokens.js';
import { windowLosses } from './tokenLosses.js';

export type { InspectedToken };

/** Options of {@link inspectWindow}. */
export interface InspectOptions {
  /** The model being trained, or its directory. */
  model: LlamaModel | string;
  /** The token file. */
  data: string;
  /** Reference scores of `data`. */
  scores: string;
  /** Window index. */
  window: number;
  /** Selection ratio. @default 0.6 */
  ratio?: number;
  /** The tokenizer `data` was prepared with (its fingerprint is checked). @default byteTokenizer() */
  tokenizer?: Tokenizer;
}

/**
 * Token-by-token losses and selection for one window.
 *
 * @throws {@link SLMError} `BAD_OPTION` for a window outside the corpus or a token file made with
 *   another tokenizer; `BAD_FILE`, `BAD_CHECKPOINT` for a wrong or corrupt file
 * @example
 * ```ts
 * const tokens = await inspectWindow({ model: 'slm', data: 'noisy.tok', scores: 'noisy.scores', window: 3 });
 * ```
 */
export async function inspectWindow(options: InspectOptions): Promise<InspectedToken[]> {
  const tokenizer = options.tokenizer ?? byteTokenizer();
  return withInferenceModel(options.model, async (model) => {
    const opened: { close(): Promise<void> }[] = [];
    try {
      const tokens = await openTokens(options.data, model.config.vocab_size, tokenizer.fingerprint);
      opened.push(tokens);
      const scores = await ScoreFile.open(options.scores);
      opened.push(scores);
      await scores.verify();
      if (scores.info.tokenFileCrc !== tokens.info.payloadCrc)
        throw new SLMError(
          'BAD_OPTION',
          `inspect: ${options.scores} holds scores of another corpus than ${options.data}.`,
        );
      const seqLen = scores.info.seqLen;
      const windows = windowCount(tokens.info.tokenCount, seqLen);
      if (!(Number.isInteger(options.window) && options.window >= 0 && options.window < windows)) {
        throw new SLMError('BAD_OPTION', `inspect: window ${options.window} is outside [0, ${windows}).`);
      }
      const batch = await readWindows(tokens, [options.window], seqLen);
      const modelLoss = await windowLosses(model, batch, seqLen);
      const refLoss = await scores.read(options.window, 1);
      return inspectTokens(batch.targets, modelLoss, refLoss, options.ratio ?? DEFAULT_RATIO, tokenizer);
    } finally {
      for (const file of opened) await file.close();
    }
  });
}
