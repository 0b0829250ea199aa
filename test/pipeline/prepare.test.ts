import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteTokenizer, TokenFile } from '../../src/data/index.js';
import { prepareCorpus } from '../../src/pipeline/index.js';

describe('prepareCorpus', () => {
  it('streams large text files in pieces and matches encoding them whole (byte tokenizer)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rho-slm-prepare-'));
    try {
      const line = 'Ünïcödé line — with multi-byte characters across chunk edges ✓\n';
      const text = `${line.repeat(Math.ceil(2.5e6 / line.length))}no final newline`;
      await writeFile(join(directory, 'big.txt'), text);
      await writeFile(
        join(directory, 'docs.jsonl'),
        `${JSON.stringify({ text: 'first' })}\n${JSON.stringify({ text: 'second' })}\n`,
      );
      const info = await prepareCorpus({ inputs: [directory], out: join(directory, 'corpus.tok') });
      const tokenizer = byteTokenizer();
      const expected = [
        ...tokenizer.encode(text),
        2,
        ...tokenizer.encode('first'),
        2,
        ...tokenizer.encode('second'),
        2,
      ];
      expect(info).toMatchObject({ documentCount: 3, tokenCount: expected.length });
      const file = await TokenFile.open(join(directory, 'corpus.tok'));
      const tokens = await file.read(0, info.tokenCount);
      expect(tokens.length).toBe(expected.length);
      expect(tokens.every((token, i) => token === expected[i])).toBe(true);
      await file.verify();
      await file.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 60_000);
});
