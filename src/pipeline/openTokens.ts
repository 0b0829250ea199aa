// Opening a token file for a pipeline step: header and payload verified, and its vocabulary and
// tokenizer checked against the model and tokenizer the step uses.
import { SLMError } from '../core/errors.js';
import { TokenFile } from '../data/tokenFile.js';

/**
 * Opens and verifies `path` (checksum, token range), and checks that its tokens fit a model of
 * `vocabSize` ids and, when `tokenizer` is given, that they were made by that tokenizer.
 *
 * @throws {@link SLMError} `BAD_FILE`, `BAD_CHECKPOINT` for a wrong or corrupt file; `BAD_OPTION`
 *   for a vocabulary or tokenizer that does not match
 */
export async function openTokens(path: string, vocabSize: number, tokenizer?: string): Promise<TokenFile> {
  const file = await TokenFile.open(path);
  try {
    await file.verify();
    if (file.info.vocabSize > vocabSize) {
      throw new SLMError(
        'BAD_OPTION',
        `${path} has a vocabulary of ${file.info.vocabSize} ids; the model has ${vocabSize} (a model for another tokenizer?).`,
      );
    }
    if (tokenizer !== undefined && file.info.tokenizer !== tokenizer) {
      throw new SLMError(
        'BAD_OPTION',
        `${path} was made with tokenizer '${file.info.tokenizer}', not '${tokenizer}'; pass the tokenizer it was prepared with (--tokenizer).`,
      );
    }
    return file;
  } catch (error) {
    await file.close();
    throw error;
  }
}
