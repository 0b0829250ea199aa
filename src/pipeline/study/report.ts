// The study's outputs: study.json (the contract other tools read), a self-contained study.html with
// static SVG charts, study.md (the tables for docs/study.md) and a terminal summary.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeHtml } from '../renderTokens.js';
import { svgChart, tokenCategoryChart } from '../svgChart.js';
import { TOKEN_KINDS } from './corpus.js';
import type { StudyResult } from './run.js';
import { label } from './runRecord.js';

const MAIN = ['reference', 'clm', 'ceiling', 'slm', 'random', 'model-loss', 'slm-sequence'];

function loss(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '—';
}

function percent(value: number): string {
  return `${(100 * value).toFixed(0)}%`;
}

function tokens(value: number | null): string {
  return value === null ? 'never' : `${(value / 1000).toFixed(0)} k`;
}

/** The rows of the final-loss table: label, mean ± sd, each seed, validation, by kind. */
function tableRows(result: StudyResult): string[][] {
  return result.summary.table.map((row) => [
    row.label,
    `${loss(row.mean)} ± ${loss(row.sd)}`,
    row.values.map((v) => `${v.seed}: ${loss(v.loss)}`).join(', '),
    loss(row.validation),
    ...TOKEN_KINDS.map((kind) => loss(row.byKind[kind])),
  ]);
}

const TABLE_HEAD = [
  'condition',
  'held-out loss (mean ± sd)',
  'per seed',
  'validation',
  'letters',
  'other ASCII',
  'non-ASCII + EOS',
];

function reachRows(result: StudyResult): string[][] {
  return Object.entries(result.summary.tokensToReachClm).map(([name, perSeed]) => [
    name,
    perSeed.map((entry) => `${entry.seed}: ${tokens(entry.tokens)}`).join(', '),
    percent(result.summary.emailShare[name]?.selected ?? Number.NaN),
    percent(result.summary.emailShare[name]?.batches ?? Number.NaN),
  ]);
}

const REACH_HEAD = [
  "tokens to reach CLM's final loss (per seed)",
  'e-mail share of trained tokens',
  'of batches',
];

/** The headline: the verdicts in one paragraph, with the command and the wall time. */
export function studyHeadline(result: StudyResult): string {
  const row = (name: string) => result.summary.table.find((r) => r.label === name);
  const [clm, slm, random] = [row('clm'), row('slm'), row('random')];
  const seeds = result.settings.seeds.length;
  return (
    `Final held-out loss over ${seeds} seed${seeds === 1 ? '' : 's'} (nats/byte, mean ± sd): ` +
    `CLM ${loss(clm?.mean ?? Number.NaN)} ± ${loss(clm?.sd ?? Number.NaN)}, ` +
    `SLM ${loss(slm?.mean ?? Number.NaN)} ± ${loss(slm?.sd ?? Number.NaN)}, ` +
    `random selection ${loss(random?.mean ?? Number.NaN)} ± ${loss(random?.sd ?? Number.NaN)}, ` +
    `reference model ${loss(row('reference')?.mean ?? Number.NaN)}. ` +
    result.summary.verdicts.map((v) => v.text).join(' ')
  );
}

/** A Markdown table. */
function markdownTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** study.md: the tables and verdicts, ready for docs/study.md. */
export function studyMarkdown(result: StudyResult, command: string): string {
  const s = result.summary;
  return [
    `Command: \`${command}\` — backend ${result.settings.backend}, ${result.settings.seeds.length} seeds, ${(s.seconds / 60).toFixed(1)} min wall time.`,
    '',
    markdownTable(TABLE_HEAD, tableRows(result)),
    '',
    markdownTable(['condition', ...REACH_HEAD], reachRows(result)),
    '',
    ...s.verdicts.map((v) => `- ${v.text}`),
    `- ${s.ceiling.text}`,
    `- CLM learning rate ${s.learningRate.chosen} chosen on validation (${s.learningRate.candidates.map((c) => `${c.learningRate}: ${loss(c.validationLoss)}`).join(', ')}); reference model kept at step ${s.reference.bestStep}.`,
    '',
  ].join('\n');
}

/** A few lines for the terminal. */
export function studySummaryText(result: StudyResult): string {
  return [
    `rho-slm study: ${result.runs.length} runs, ${(result.summary.seconds / 60).toFixed(1)} min, backend ${result.settings.backend}`,
    ...result.summary.table.map((row) => `  ${row.label.padEnd(14)} ${loss(row.mean)} ± ${loss(row.sd)}`),
    ...result.summary.verdicts.map((v) => v.text),
    result.summary.ceiling.text,
  ].join('\n');
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

async function charts(result: StudyResult): Promise<string[]> {
  const ratio = result.settings.ratio;
  const runs = result.runs.filter((run) => run.condition !== 'reference');
  const points = runs
    .filter((run) => MAIN.includes(label(run, ratio)))
    .flatMap((run) =>
      run.curve
        .filter((p) => p.tokens > 0)
        .map((p) => ({ ...p, condition: label(run, ratio), seed: run.seed })),
    );
  const reference = result.summary.table.find((row) => row.label === 'reference')?.mean ?? Number.NaN;
  const x = { field: 'tokens', type: 'quantitative', title: 'training tokens' };
  const meanLoss = {
    aggregate: 'mean',
    field: 'loss',
    type: 'quantitative',
    title: 'nats per byte',
    scale: { zero: false },
  };
  const curves = await svgChart({
    title:
      'Held-out loss against training tokens (line: mean over seeds; band: ± sd; dashed: reference model)',
    width: 640,
    height: 340,
    layer: [
      {
        data: { values: points },
        mark: { type: 'errorband', extent: 'stdev', opacity: 0.2 },
        encoding: {
          x,
          y: { field: 'loss', type: 'quantitative', scale: { zero: false } },
          color: { field: 'condition' },
        },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: meanLoss,
          color: { field: 'condition', type: 'nominal' },
        },
      },
      {
        data: { values: [{ loss: reference }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { y: { field: 'loss', type: 'quantitative' } },
      },
    ],
  });
  const clm = result.summary.table.find((row) => row.label === 'clm')?.mean ?? Number.NaN;
  const sweep = await svgChart({
    title: "SLM's final held-out loss by selection ratio (mean ± sd; dashed: CLM)",
    width: 420,
    height: 240,
    layer: [
      {
        data: {
          values: result.summary.sweep.map((p) => ({ ...p, low: p.mean - p.sd, high: p.mean + p.sd })),
        },
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: {
                field: 'ratio',
                type: 'quantitative',
                title: 'selection ratio',
                scale: { domain: [0.2, 1] },
              },
              y: { field: 'mean', type: 'quantitative', title: 'nats per byte', scale: { zero: false } },
            },
          },
          {
            mark: 'rule',
            encoding: {
              x: { field: 'ratio', type: 'quantitative' },
              y: { field: 'low', type: 'quantitative' },
              y2: { field: 'high' },
            },
          },
        ],
      },
      {
        data: { values: [{ loss: clm }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { y: { field: 'loss', type: 'quantitative' } },
      },
    ],
  });
  const probe = await svgChart({
    title: `Loss on the noisy tokens SLM selects (top ${percent(ratio)} by excess loss) and on the rest, mean over seeds`,
    width: 640,
    height: 260,
    data: {
      values: runs
        .filter((run) => ['clm', 'slm', 'random'].includes(label(run, ratio)))
        .flatMap((run) =>
          run.probe.flatMap((p) => [
            { tokens: p.tokens, loss: p.selected, condition: label(run, ratio), tokensOf: 'selected by SLM' },
            { tokens: p.tokens, loss: p.unselected, condition: label(run, ratio), tokensOf: 'not selected' },
          ]),
        ),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: meanLoss,
      color: { field: 'condition', type: 'nominal' },
      strokeDash: { field: 'tokensOf', type: 'nominal', title: 'tokens' },
    },
  });
  const share = await svgChart({
    title: 'E-mail share: of the tokens trained on vs of the batches (mean over training and seeds)',
    width: 520,
    height: 220,
    data: {
      values: Object.entries(result.summary.emailShare).flatMap(([condition, s]) => [
        { condition, share: s.selected, of: 'tokens trained on' },
        { condition, share: s.batches, of: 'batches' },
      ]),
    },
    mark: 'bar',
    encoding: {
      y: { field: 'condition', type: 'nominal', title: null },
      yOffset: { field: 'of' },
      x: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'e-mail share' },
      color: { field: 'of', type: 'nominal', title: null },
    },
  });
  const categories = await tokenCategoryChart(result.summary.categories, { width: 520, height: 200 });
  return [curves, sweep, probe, share, categories];
}

/** Writes study.json, study.html and study.md into `directory`; returns the HTML path. */
export async function writeStudyReport(
  result: StudyResult,
  directory: string,
  command: string,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'study.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(directory, 'study.md'), studyMarkdown(result, command));
  const [curves, sweep, probe, share, categories] = await charts(result);
  const s = result.summary;
  const dataRows = Object.entries(result.settings.data).map(([key, value]) => [
    key,
    typeof value === 'number' && value < 1 ? percent(value) : String(value),
  ]);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rho-slm study: SLM vs CLM and controls</title>
<style>
body { font: 15px/1.6 system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
.headline { font-size: 1.1rem; background: #f4f4f0; padding: 1rem; border-left: 4px solid #c33; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { text-align: left; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid #ddd; }
</style></head><body>
<h1>Selective Language Modeling: a fair test</h1>
<p class="headline">${escapeHtml(studyHeadline(result))}</p>
<h2>Verdicts</h2>
<ul>${[...s.verdicts.map((v) => v.text), s.ceiling.text].map((t) => `<li>${escapeHtml(t)}</li>`).join('')}</ul>
<h2>Held-out loss</h2>
<figure>${curves}</figure>
${htmlTable(TABLE_HEAD, tableRows(result))}
<h2>Tokens to reach CLM, and what was trained on</h2>
${htmlTable(['condition', ...REACH_HEAD], reachRows(result))}
<figure>${share}</figure>
<h2>Selected and unselected tokens</h2>
<figure>${probe}</figure>
<h2>Ratio sweep</h2>
<figure>${sweep}</figure>
<h2>Token categories</h2>
<figure>${categories}</figure>
<h2>Choices settled on the validation split</h2>
<p>CLM learning rate ${s.learningRate.chosen}: ${escapeHtml(s.learningRate.candidates.map((c) => `${c.learningRate} → ${loss(c.validationLoss)}`).join(', '))}.
Reference model kept at step ${s.reference.bestStep} (validation: ${escapeHtml(s.reference.validationCurve.map((p) => loss(p.loss)).join(', '))}).</p>
<h2>Data and settings</h2>
${htmlTable(['split', 'contents'], dataRows)}
<pre>${escapeHtml(JSON.stringify({ ...result.settings, data: undefined }, null, 2))}</pre>
<p>Produced by <code>${escapeHtml(command)}</code> in ${(s.seconds / 60).toFixed(1)} min. Every number is in study.json.</p>
</body></html>
`;
  const path = join(directory, 'study.html');
  await writeFile(path, html);
  return path;
}
