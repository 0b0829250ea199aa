// The three SLM steps through the library API (rho-slm/pipeline), on a small corpus written here:
// prepare token files, train a reference model, score the noisy corpus, train selectively, evaluate.
// Run: npx tsx examples/three-steps.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateModel, prepareCorpus, scoreCorpus, trainModel } from 'rho-slm/pipeline';
import { useBackend } from 'rho-slm/tfjs';

await useBackend('wasm');
const directory = await mkdtemp(join(tmpdir(), 'rho-slm-example-'));
const at = (name: string) => join(directory, name);
const prose = 'We hold these truths to be self-evident, that all men are created equal. ';
const noise = Array.from({ length: 1500 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('');
await writeFile(at('clean.txt'), prose.repeat(40));
await writeFile(
  at('noisy.jsonl'),
  `${JSON.stringify({ text: prose.repeat(15) })}\n${JSON.stringify({ text: noise })}\n`,
);

await prepareCorpus({ inputs: [at('clean.txt')], out: at('clean.tok') });
await prepareCorpus({ inputs: [at('noisy.jsonl')], out: at('noisy.tok') });
const common = { config: 'nano' as const, batchSize: 4, seqLen: 32, checkpointEvery: 20 };
await trainModel({ ...common, data: at('clean.tok'), out: at('ref'), steps: 20 }); // 1. reference model
await scoreCorpus({ model: at('ref'), data: at('noisy.tok'), out: at('noisy.scores'), seqLen: 32 }); // 2. score once
const { last } = await trainModel({
  ...common,
  data: at('noisy.tok'),
  scores: at('noisy.scores'),
  out: at('slm'),
  steps: 10,
}); // 3. SLM
const heldOut = await evaluateModel({ model: at('slm'), data: at('clean.tok'), seqLen: 32 });
console.log(
  `SLM trained on ${(100 * last!.selectedFraction).toFixed(0)}% of tokens; held-out loss ${heldOut.loss.toFixed(3)} nats`,
);
await rm(directory, { recursive: true, force: true });
