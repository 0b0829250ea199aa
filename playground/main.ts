// The browser playground: the study's fair design at toy size, in the page. One short text is the
// target domain; its sentences are dealt into a reference set, a held-out set and the prose of a
// noisy corpus (half noise). A reference model learns the reference set, scores the noisy corpus,
// then CLM, SLM and random selection train side by side from the same start; the page shows the
// held-out loss and the tokens SLM selects, live. Built by scripts/build-playground.mjs.
import { byteTokenizer } from '../src/data/byteTokenizer.js';
import { DEFAULT_RATIO, selectiveLoss } from '../src/index.js';
import { LLAMA_PRESETS } from '../src/model/config.js';
import { LlamaModel } from '../src/model/llama.js';
import { inspectTokens } from '../src/pipeline/inspectedTokens.js';
import { corpusLosses, memorySource, TokenWindows } from '../src/pipeline/memoryWindows.js';
import { renderTokenSpans } from '../src/pipeline/renderTokens.js';
import { windowLosses } from '../src/pipeline/tokenLosses.js';
import { trainingSteps } from '../src/pipeline/trainingLoop.js';
import { chooseBackend } from './backend.js';
import { lossChart } from './chart.js';

const CLEAN = `It was a bright cold day in April, and the clocks were striking thirteen. The hallway smelt of boiled cabbage and old rag mats. At one end of it a coloured poster, too large for indoor display, had been tacked to the wall. It depicted simply an enormous face, more than a metre wide: the face of a man of about forty-five, with a heavy black moustache and ruggedly handsome features. The sea was calm that evening, and the boats came in one by one, their sails folded, their nets heavy with the day's catch. The children ran along the harbour wall, calling to their fathers, and the old men sat by the door of the inn and watched the light go down over the water. `;
const NOISE = Array.from(
  { length: 900 },
  (_, i) => '<>{}#%&=/\\|~^$@*0123456789abcdefQXZ'[(i * 7919 + (i >> 3)) % 36],
).join('');

/** Sentences `i mod 3 = 0` train the reference model, `1` are held out, `2` are the noisy corpus's prose. */
const SENTENCES = CLEAN.split(/(?<=\.) /).filter((sentence) => sentence.trim() !== '');
const split = (part: number) => SENTENCES.filter((_, i) => i % 3 === part).join(' ');

/** The noisy corpus: prose and noise in alternating chunks of 48 characters, half of each. */
function noisyText(prose: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < prose.length; i += 48) chunks.push(prose.slice(i, i + 48), NOISE.slice(i, i + 48));
  return chunks.join('');
}

const CONDITIONS = ['CLM', 'SLM', 'random'] as const;
const T = 32;
const B = 4;
const tokenizer = byteTokenizer();
const $ = (id: string) => document.getElementById(id)!;
const status = (text: string) => {
  $('status').textContent = text;
};

function windows(ids: number[]): number[][] {
  return Array.from({ length: Math.floor((ids.length - 1) / T) }, (_, w) => ids.slice(w * T, w * T + T + 1));
}

/** Next-token losses `[T]` of one window of `T + 1` tokens. */
function losses(model: LlamaModel, window: number[]): Promise<Float32Array> {
  return windowLosses(
    model,
    { windows: [0], inputs: Int32Array.from(window.slice(0, T)), targets: Int32Array.from(window.slice(1)) },
    T,
  );
}

async function heldOutLoss(model: LlamaModel, heldOut: number[][]): Promise<number> {
  let total = 0;
  for (const window of heldOut) total += (await losses(model, window)).reduce((a, b) => a + b, 0) / T;
  return total / heldOut.length;
}

/** Steps between two held-out evaluations. */
const EVAL_EVERY = 10;

function drawChart(series: Record<string, number[]>): void {
  $('chart').innerHTML = lossChart(
    [
      { label: 'CLM: trains on every token', colour: '#4c78a8', values: series.CLM ?? [] },
      { label: 'SLM: top 60% by excess loss', colour: '#f58518', values: series.SLM ?? [] },
      { label: 'random: 60% of tokens at random', colour: '#54a24b', values: series.random ?? [] },
    ],
    EVAL_EVERY,
  );
}

async function main(): Promise<void> {
  const backend = await chooseBackend();
  $('backend').textContent = backend;
  const clean = tokenizer.encode(split(0));
  const heldOut = windows(tokenizer.encode(split(1)));
  const noisyIds = tokenizer.encode(noisyText(split(2)));
  const noisy = windows(noisyIds);
  const config = { ...LLAMA_PRESETS.nano, max_position_embeddings: T };

  status('1/3 training the reference model on the clean text');
  const reference = LlamaModel.create(config, { seed: 7 });
  const loop = { seqLen: T, batchSize: B, learningRate: 0.01, seed: 1 };
  const cleanWindows = memorySource(new TokenWindows(Int32Array.from(clean), T));
  for await (const _ of trainingSteps({ ...loop, model: reference, source: cleanWindows, steps: 40 })) {
    // the reference model trains; nothing to show yet
  }
  status('2/3 scoring the noisy corpus');
  const noisyWindows = new TokenWindows(Int32Array.from(noisyIds), T);
  const refLoss = await corpusLosses(reference, noisyWindows);
  reference.dispose();
  const shownWindow = Math.floor(noisy.length / 2);
  const shownRefLoss = refLoss.subarray(shownWindow * T, shownWindow * T + T);

  status('3/3 training CLM, SLM and random selection side by side');
  const models = Object.fromEntries(
    CONDITIONS.map((name) => [name, LlamaModel.create(config, { seed: 1 })]),
  ) as Record<(typeof CONDITIONS)[number], LlamaModel>;
  const run = (name: (typeof CONDITIONS)[number]) =>
    trainingSteps({
      ...loop,
      model: models[name],
      source: memorySource(noisyWindows, name === 'SLM' ? { refLoss } : {}),
      steps: 60,
      ...(name === 'CLM'
        ? {}
        : { selective: { ratio: DEFAULT_RATIO, strategy: name === 'SLM' ? 'excess' : 'random' } }),
    });
  const runs = { CLM: run('CLM'), SLM: run('SLM'), random: run('random') };
  const curves: Record<string, number[]> = {};
  for (const name of CONDITIONS) curves[name] = [await heldOutLoss(models[name], heldOut)];
  drawChart(curves);
  for (let step = 0; step < 60; step++) {
    for (const name of CONDITIONS) await runs[name].next();
    if (step % EVAL_EVERY === EVAL_EVERY - 1) {
      for (const name of CONDITIONS) {
        curves[name]!.push(await heldOutLoss(models[name], heldOut));
        $(`loss-${name.toLowerCase()}`).textContent = curves[name]!.at(-1)!.toFixed(3);
      }
      drawChart(curves);
      const shown = noisy[shownWindow]!;
      const modelLoss = await losses(models.SLM, shown);
      $('tokens').innerHTML = renderTokenSpans(
        inspectTokens(shown.slice(1), modelLoss, shownRefLoss, DEFAULT_RATIO, tokenizer),
      );
      const check = selectiveLoss({ modelLoss, refLoss: shownRefLoss, ratio: DEFAULT_RATIO });
      status(
        `3/3 step ${step + 1}/60 · SLM trains on ${check.selected} of ${check.total} tokens of each window shown`,
      );
    }
  }
  const final = (name: string) => curves[name]!.at(-1)!.toFixed(3);
  status(
    `done: final held-out loss CLM ${final('CLM')}, SLM ${final('SLM')}, random selection ${final('random')} (nats/byte). ` +
      'One toy run: the order changes with the seed. The study (npm run study) tests the claim over seeds.',
  );
  for (const model of Object.values(models)) model.dispose();
  document.body.dataset.done = 'true';
}

main().catch((error: unknown) => {
  status(`error: ${(error as Error).message}`);
  document.body.dataset.done = 'error';
});
