// The browser playground: trains the nano model in the page on a small text with a noisy part —
// a reference model on the clean part, then CLM and SLM side by side — and shows the held-out loss
// and the tokens SLM selects, live. Built into docs/site/playground by scripts/build-playground.mjs.
import * as tf from '@tensorflow/tfjs';
import { byteTokenizer } from '../src/data/byteTokenizer.js';
import { selectiveLoss, topKMask } from '../src/index.js';
import { LLAMA_PRESETS } from '../src/model/config.js';
import { LlamaModel } from '../src/model/llama.js';
import { renderTokenSpans } from '../src/pipeline/renderTokens.js';
import { windowLosses } from '../src/pipeline/tokenLosses.js';
import { createTrainStep } from '../src/tfjs/trainStep.js';
import { chooseBackend } from './backend.js';
import { lossChart } from './chart.js';

const CLEAN = `It was a bright cold day in April, and the clocks were striking thirteen. The hallway smelt of boiled cabbage and old rag mats. At one end of it a coloured poster, too large for indoor display, had been tacked to the wall. It depicted simply an enormous face, more than a metre wide: the face of a man of about forty-five, with a heavy black moustache and ruggedly handsome features. The sea was calm that evening, and the boats came in one by one, their sails folded, their nets heavy with the day's catch. The children ran along the harbour wall, calling to their fathers, and the old men sat by the door of the inn and watched the light go down over the water. `;
const NOISE = Array.from(
  { length: 900 },
  (_, i) => '<>{}#%&=/\\|~^$@*0123456789abcdefQXZ'[(i * 7919 + (i >> 3)) % 36],
).join('');

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

function batchOf(all: number[][], step: number, refLoss?: Float32Array[]) {
  const rows = Array.from({ length: B }, (_, r) => (step * B + r) % all.length);
  return {
    inputs: tf.tensor2d(
      rows.map((r) => all[r]!.slice(0, T)),
      [B, T],
      'int32',
    ),
    labels: tf.tensor2d(
      rows.map((r) => all[r]!.slice(1)),
      [B, T],
      'int32',
    ),
    refLoss: tf.tensor2d(
      rows.map((r) => Array.from(refLoss?.[r] ?? new Float32Array(T))),
      [B, T],
    ),
  };
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
    ],
    EVAL_EVERY,
  );
}

async function main(): Promise<void> {
  const backend = await chooseBackend();
  $('backend').textContent = backend;
  const clean = tokenizer.encode(CLEAN.repeat(3));
  const heldOut = windows(tokenizer.encode(CLEAN.slice(0, 400)));
  const noisyIds = [
    ...tokenizer.encode(CLEAN.slice(200)),
    ...tokenizer.encode(NOISE),
    ...tokenizer.encode(CLEAN.slice(0, 300)),
  ];
  const noisy = windows(noisyIds);
  const config = { ...LLAMA_PRESETS.nano, max_position_embeddings: T };

  status('1/3 training the reference model on the clean text');
  const reference = LlamaModel.create(config, { seed: 7 });
  const referenceStep = createTrainStep({ model: reference, optimizer: tf.train.adam(0.01) });
  for (let step = 0; step < 40; step++) {
    const batch = batchOf(windows(clean), step);
    await referenceStep(batch);
    tf.dispose(Object.values(batch));
  }
  status('2/3 scoring the noisy corpus');
  const refLoss: Float32Array[] = [];
  for (const window of noisy) refLoss.push(await losses(reference, window));
  reference.dispose();

  status('3/3 training CLM and SLM side by side');
  const models = { CLM: LlamaModel.create(config, { seed: 1 }), SLM: LlamaModel.create(config, { seed: 1 }) };
  const steps = {
    CLM: createTrainStep({ model: models.CLM, optimizer: tf.train.adam(0.01) }),
    SLM: createTrainStep({ model: models.SLM, optimizer: tf.train.adam(0.01), selective: { ratio: 0.6 } }),
  };
  const curves: Record<string, number[]> = {
    CLM: [await heldOutLoss(models.CLM, heldOut)],
    SLM: [await heldOutLoss(models.SLM, heldOut)],
  };
  drawChart(curves);
  for (let step = 0; step < 60; step++) {
    for (const name of ['CLM', 'SLM'] as const) {
      const batch = batchOf(noisy, step, refLoss);
      await steps[name](batch);
      tf.dispose(Object.values(batch));
    }
    if (step % EVAL_EVERY === EVAL_EVERY - 1) {
      for (const name of ['CLM', 'SLM'] as const) {
        curves[name]!.push(await heldOutLoss(models[name], heldOut));
        $(`loss-${name.toLowerCase()}`).textContent = curves[name]!.at(-1)!.toFixed(3);
      }
      drawChart(curves);
      const shown = noisy[Math.floor(noisy.length / 2)]!;
      const modelLoss = await losses(models.SLM, shown);
      const excess = modelLoss.map((l, t) => l - refLoss[Math.floor(noisy.length / 2)]![t]!);
      const mask = topKMask(excess, { ratio: 0.6 });
      $('tokens').innerHTML = renderTokenSpans(
        shown.slice(1).map((id, t) => ({
          id,
          text: tokenizer.decode([id]),
          modelLoss: modelLoss[t]!,
          refLoss: refLoss[Math.floor(noisy.length / 2)]![t]!,
          excess: excess[t]!,
          selected: mask[t] === 1,
        })),
      );
      const check = selectiveLoss({ modelLoss, refLoss: refLoss[Math.floor(noisy.length / 2)]!, ratio: 0.6 });
      status(
        `3/3 step ${step + 1}/60 · SLM trains on ${check.selected} of ${check.total} tokens of each window shown`,
      );
    }
  }
  status('done');
  document.body.dataset.done = 'true';
}

main().catch((error: unknown) => {
  status(`error: ${(error as Error).message}`);
  document.body.dataset.done = 'error';
});
