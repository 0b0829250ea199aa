// The demo's report: report.json, a self-contained report.html with charts drawn by Vega-Lite into
// static SVG (no scripts, no network), and a terminal summary.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeHtml, renderTokenSpans, TOKEN_STYLE } from '../../pipeline/renderTokens.js';
import { svgChart, tokenCategoryChart } from '../svgChart.js';
import { DEMO_CONDITIONS, type DemoCondition, type DemoResult } from './run.js';

function percent(value: number | null): string {
  return value === null ? 'never' : `${(100 * value).toFixed(0)}%`;
}

/** The headline: SLM against CLM, random selection and the reference model, in plain words. */
export function headline(result: DemoResult): string {
  const h = result.headline;
  const compare = (name: string, other: number) =>
    `${h.slmFinalLoss < other ? 'beat' : 'did not beat'} ${name} (${other.toFixed(3)})`;
  const reached =
    h.fractionOfClmTokens === null
      ? "did not reach CLM's final held-out loss within the same budget"
      : `reached CLM's final held-out loss after ${percent(h.fractionOfClmTokens)} of CLM's training tokens`;
  return (
    `One seed, demo scale: SLM's final held-out loss ${h.slmFinalLoss.toFixed(3)} nats/byte ${compare('CLM', h.clmFinalLoss)}, ` +
    `${compare('random selection of as many tokens', h.randomFinalLoss)} and ${compare('the reference model', h.referenceLoss)}; SLM ${reached}. ` +
    'A single seed at this scale is an illustration: `npm run study` tests the claim over seeds.'
  );
}

/** The README's demo paragraph (generated from a committed report.json; a test checks the README quotes it). */
export function demoReadmeParagraph(result: DemoResult): string {
  const h = result.headline;
  const last = result.selection[result.selection.length - 1];
  const { environment: env } = result;
  return (
    `Measured with \`npm run demo\` (commit ${env.commit.slice(0, 7)}, ${env.backend} backend, ${env.cores}-core ${env.cpu}, one seed, ${Math.round(result.seconds)} s): ` +
    `final held-out loss CLM ${h.clmFinalLoss.toFixed(3)}, SLM ${h.slmFinalLoss.toFixed(3)}, random selection ${h.randomFinalLoss.toFixed(3)}, reference model ${h.referenceLoss.toFixed(3)} nats/byte; ` +
    (h.fractionOfClmTokens === null
      ? "SLM did not reach CLM's final loss within the budget"
      : `SLM reached CLM's final loss after ${percent(h.fractionOfClmTokens)} of CLM's training tokens`) +
    (last === undefined
      ? '. '
      : `; e-mail was ${percent(last.emailShareOfBatches)} of the last interval's batches and ${percent(last.emailShareOfSelected)} of the tokens SLM selected. `) +
    'One seed: an illustration, not evidence (the study above is the evidence).'
  );
}

/** A few lines for the terminal. */
export function terminalSummary(result: DemoResult): string {
  const last = result.selection[result.selection.length - 1];
  return [
    `rho-slm demo: ${result.data.trainingTokensPerModel} training tokens per model, ${result.seconds.toFixed(0)} s`,
    headline(result),
    last === undefined
      ? ''
      : `e-mail share: ${percent(last.emailShareOfBatches)} of the batches, ${percent(last.emailShareOfSelected)} of the tokens SLM selected (last interval)`,
    `held-out token categories (CLM): ${Object.entries(result.categories.clm)
      .map(([k, v]) => `${k} ${percent(v)}`)
      .join(', ')}`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Writes `report.json` and `report.html` into `directory`; returns the HTML path. */
export async function writeDemoReport(result: DemoResult, directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'report.json'), `${JSON.stringify(result, null, 2)}\n`);
  const names: Record<DemoCondition, string> = {
    clm: 'CLM (all tokens)',
    slm: `SLM (top ${result.settings.ratio * 100}% by excess loss)`,
    random: `random ${result.settings.ratio * 100}% of tokens`,
  };
  const curve = DEMO_CONDITIONS.flatMap((kind) =>
    result.curves[kind].map((p) => ({ ...p, model: names[kind] })),
  );
  const lossChart = await svgChart({
    title: 'Held-out loss (clean prose) against training tokens',
    width: 560,
    height: 300,
    layer: [
      {
        data: { values: curve },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'tokens', type: 'quantitative', title: 'training tokens' },
          y: { field: 'loss', type: 'quantitative', title: 'nats per byte', scale: { zero: false } },
          color: { field: 'model', type: 'nominal' },
        },
      },
      {
        data: { values: [{ loss: result.curves.reference, label: 'reference model' }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { y: { field: 'loss', type: 'quantitative' } },
      },
    ],
  });
  const selectionChart = await svgChart({
    title: "E-mail share: of each interval's batches vs of the tokens SLM selected",
    width: 560,
    height: 220,
    data: {
      values: result.selection.flatMap((s) => [
        { tokens: s.tokens, share: s.emailShareOfBatches, series: 'in the batches' },
        { tokens: s.tokens, share: s.emailShareOfSelected, series: 'among selected tokens' },
      ]),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'tokens', type: 'quantitative', title: 'training tokens' },
      y: { field: 'share', type: 'quantitative', title: 'e-mail share', axis: { format: '%' } },
      color: { field: 'series', type: 'nominal' },
    },
  });
  const categoryChart = await tokenCategoryChart(
    Object.fromEntries(DEMO_CONDITIONS.map((model) => [model.toUpperCase(), result.categories[model]])),
    { width: 560, height: 160 },
  );
  const windows = result.windows
    .map(
      (w) => `<h3>Window ${w.window} (${percent(w.emailShare)} e-mail)</h3>\n${renderTokenSpans(w.tokens)}`,
    )
    .join('\n');
  const dataRows = Object.entries(result.data)
    .map(
      ([key, value]) =>
        `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(typeof value === 'number' && value < 1 ? percent(value) : String(value))}</td></tr>`,
    )
    .join('');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rho-slm demo: SLM vs CLM</title>
<style>
body { font: 15px/1.6 system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
.headline { font-size: 1.2rem; background: #f4f4f0; padding: 1rem; border-left: 4px solid #c33; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .2rem .8rem .2rem 0; }
.tokens p { font-family: ui-monospace, monospace; line-height: 1.9; }
${TOKEN_STYLE}
</style></head><body>
<h1>Selective Language Modeling vs plain causal LM and random selection</h1>
<p class="headline">${escapeHtml(headline(result))}</p>
<h2>Held-out loss</h2>
<figure class="chart">${lossChart}</figure>
<h2>What SLM selected</h2>
<figure class="chart">${selectionChart}</figure>
<h2>Token categories</h2>
<figure class="chart">${categoryChart}</figure>
<h2>Tokens of the noisy corpus by excess loss (final SLM model vs reference)</h2>
<div class="tokens">${windows}</div>
<h2>Data and settings</h2>
<table>${dataRows}</table>
<pre>${escapeHtml(JSON.stringify(result.settings, null, 2))}</pre>
<p>Produced by <code>npm run demo${result.settings.trainSteps === 36 ? ' -- --quick' : ''}</code> in ${result.seconds.toFixed(0)} s. All numbers are in report.json.</p>
</body></html>
`;
  const path = join(directory, 'report.html');
  await writeFile(path, html);
  return path;
}
