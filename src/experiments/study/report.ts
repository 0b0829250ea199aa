// The study's outputs: study.json (the contract other tools read), a self-contained study.html with
// static SVG charts, study.md (the tables docs/study.md embeds), the README's paragraph and a
// terminal summary. The README and docs/study.md quote only what these functions generate.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeHtml } from '../../pipeline/renderTokens.js';
import { svgChart } from '../svgChart.js';
import type { StudyResult } from './run.js';
import { CLAIM_OTHERS, type Claim } from './summary.js';

function loss(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : '—';
}

function signed(value: number): string {
  return `${value < 0 ? '−' : '+'}${Math.abs(value).toFixed(3)}`;
}

function interval(ci: [number, number] | null): string {
  return ci === null ? 'n/a (one seed)' : `[${signed(ci[0])}, ${signed(ci[1])}]`;
}

function level(emailShare: number | null): string {
  return emailShare === null ? '—' : `${Math.round(100 * emailShare)}%`;
}

function kTokens(value: number | null): string {
  return value === null ? 'not reached' : `${(value / 1000).toFixed(0)} k`;
}

function markdownTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const CLAIM_HEAD = ['claim', 'e-mail', 'seeds', 'mean SLM − other', '95% CI', 'verdict', 'per seed'];

function claimRows(claims: readonly Claim[]): string[][] {
  return claims.map((c) => [
    c.claim,
    level(c.emailShare),
    String(c.seeds.length),
    signed(c.meanDifference),
    interval(c.ci95),
    `**${c.verdict}**`,
    c.differences.map((d) => `${d.seed}: ${signed(d.difference)}`).join(', '),
  ]);
}

const TABLE_HEAD = ['condition', 'e-mail', 'held-out loss (mean ± sd)', 'per seed'];

function tableRows(result: StudyResult): string[][] {
  return result.summary.table.map((row) => [
    row.label,
    level(row.emailShare),
    `${loss(row.mean)} ± ${loss(row.sd)}`,
    row.values.map((v) => `${v.seed}: ${loss(v.loss)}`).join(', '),
  ]);
}

const REACH_HEAD = [
  'e-mail',
  "SLM's tokens to reach CLM's final loss (per seed)",
  'mean [95% CI]',
  'of CLM budget',
];

function reachRows(result: StudyResult): string[][] {
  return result.summary.tokensToClmFinal.map((entry) => [
    level(entry.emailShare),
    entry.perSeed.map((s) => `${s.seed}: ${kTokens(s.tokens)}`).join(', '),
    entry.meanTokens === null
      ? `reached in ${entry.reached} of ${entry.perSeed.length} seeds`
      : `${kTokens(entry.meanTokens)} ${entry.ci95 === null ? '' : `[${kTokens(entry.ci95[0])}, ${kTokens(entry.ci95[1])}]`}`,
    entry.meanTokens === null ? '—' : `${((100 * entry.meanTokens) / entry.clmTokens).toFixed(0)}%`,
  ]);
}

function sweepRows(result: StudyResult): string[][] {
  return result.summary.sweep.map((point) => [
    String(point.ratio),
    point.seeds.join(', '),
    loss(point.mean),
    point.ci95 === null ? 'n/a' : `[${loss(point.ci95[0])}, ${loss(point.ci95[1])}]`,
  ]);
}

function shareRows(result: StudyResult): string[][] {
  return result.summary.emailShareTrained.map((row) => [
    row.label,
    level(row.emailShare),
    `${(100 * row.selected).toFixed(0)}%`,
    `${(100 * row.batches).toFixed(0)}%`,
  ]);
}

/** One sentence per level: the verdict of each claim, in plain words. */
export function verdictSentences(result: StudyResult): string[] {
  return result.settings.levels.flatMap(({ emailShare }) => {
    const claims = result.summary.claims.filter((c) => c.emailShare === emailShare);
    if (claims.length === 0) return [];
    const parts = claims.map((c) => {
      const seeds = `${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'}`;
      const meaning =
        c.verdict === 'holds' ? ' (SLM lower)' : c.verdict === 'reversed' ? ' (SLM higher)' : '';
      return `against ${c.claim.replace('slm < ', '')} **${c.verdict}**${meaning}: ${signed(c.meanDifference)}, 95% CI ${interval(c.ci95)}, ${seeds}`;
    });
    return [`At ${level(emailShare)} e-mail, SLM's final held-out loss ${parts.join('; ')}.`];
  });
}

/** The answer in one line: SLM against CLM at each level, in the fixed verdict words. */
export function headlineVerdict(result: StudyResult): string {
  const words = {
    holds: 'lower loss than CLM',
    reversed: 'higher loss than CLM',
    'no clear difference': 'no clear difference from CLM',
  };
  const parts = result.summary.claims
    .filter((claim) => claim.claim === 'slm < clm')
    .map((claim) => `${words[claim.verdict]} at ${level(claim.emailShare)} e-mail (${claim.verdict})`);
  return parts.length === 0
    ? 'No SLM and CLM runs have finished yet.'
    : `Does SLM help here? SLM: ${parts.join('; ')}.`;
}

/** The README's study paragraph (generated; a test checks the README quotes it exactly). */
export function studyReadmeParagraph(result: StudyResult): string {
  const s = result.summary;
  const levels = result.settings.levels
    .map(
      (l) =>
        `${level(l.emailShare)} e-mail (${(l.noisyTokens / 1e6).toFixed(2)} M tokens, ${(l.proseTokens / 1e6).toFixed(2)} M of them prose)`,
    )
    .join(' and ');
  const reach = s.tokensToClmFinal
    .map((entry) =>
      entry.meanTokens === null
        ? `at ${level(entry.emailShare)} e-mail SLM reached CLM's final loss in ${entry.reached} of ${entry.perSeed.length} seeds`
        : `at ${level(entry.emailShare)} e-mail SLM reached CLM's final loss after ${((100 * entry.meanTokens) / entry.clmTokens).toFixed(0)}% of CLM's tokens on average`,
    )
    .join(', ');
  const { plannedRuns, finishedRuns } = result.progress;
  const partial =
    finishedRuns < plannedRuns
      ? [
          `**Partial: ${finishedRuns} of ${plannedRuns} runs have finished** (the study resumes with \`npm run study -- --out docs/study-run --resume\`); what follows covers only the finished seeds and may change.`,
          '',
        ]
      : [];
  return [
    ...partial,
    `**${headlineVerdict(result)}**`,
    '',
    `Measured with \`npm run study\` (${result.runCommits.length === 1 ? 'commit' : 'commits'} ${result.runCommits.map((commit) => commit.slice(0, 7)).join(', ')}, ${result.machine.backend} backend, ${result.machine.cores}-core ${result.machine.cpu}, ${(s.seconds / 60).toFixed(0)} min of training runs): a reference model trained on ${(result.settings.corpus.reference / 1000).toFixed(0)} k tokens of clean addresses steers one pass over a noisy corpus at ${levels}; final held-out loss in nats/byte, differences paired by seed with Student-t 95% intervals.`,
    '',
    ...verdictSentences(result).map((sentence) => `- ${sentence}`),
    ...(reach === '' ? [] : [`- Tokens to CLM's final loss: ${reach}.`]),
  ].join('\n');
}

/** study.md: every table, ready for docs/study.md (generated; a test checks docs/study.md quotes it). */
export function studyMarkdown(result: StudyResult): string {
  const s = result.summary;
  return [
    markdownTable(CLAIM_HEAD, claimRows(s.claims)),
    '',
    markdownTable(TABLE_HEAD, tableRows(result)),
    '',
    markdownTable(REACH_HEAD, reachRows(result)),
    '',
    markdownTable(
      [
        'SLM ratio',
        'seeds',
        `held-out loss at ${level(result.settings.levels[0]!.emailShare)} e-mail`,
        '95% CI',
      ],
      sweepRows(result),
    ),
    '',
    markdownTable(['condition', 'e-mail', 'e-mail share of trained tokens', 'of batches'], shareRows(result)),
    '',
    `CLM learning rate ${s.learningRate.chosen}, chosen on validation: ${s.learningRate.candidates.map((c) => `${c.learningRate} → ${loss(c.validationLoss)}`).join(', ')}. ` +
      `Reference models: ${s.references.map((r) => `seed ${r.seed} kept step ${r.bestStep} of ${r.steps} (stopped by ${r.stoppedBy})`).join('; ')}.`,
  ].join('\n');
}

/** A few lines for the terminal. */
export function studySummaryText(result: StudyResult): string {
  return [
    `rho-slm study: ${result.runs.length} runs, ${(result.summary.seconds / 60).toFixed(1)} min of training, backend ${result.machine.backend}`,
    ...verdictSentences(result),
  ].join('\n');
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c.replaceAll('**', ''))}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

const CURVE_CONDITIONS = ['clm', 'slm', 'random', 'oracle-filter'];

async function curveChart(result: StudyResult, emailShare: number): Promise<string> {
  const points = result.runs
    .filter((run) => run.emailShare === emailShare && CURVE_CONDITIONS.includes(run.condition))
    .filter((run) => run.condition !== 'slm' || run.ratio === result.settings.ratio)
    .flatMap((run) =>
      run.curve.filter((p) => p.tokens > 0).map((p) => ({ ...p, condition: run.condition, seed: run.seed })),
    );
  const reference = result.summary.table.find((row) => row.label === 'reference')?.mean ?? Number.NaN;
  const x = { field: 'tokens', type: 'quantitative', title: 'training tokens' };
  return svgChart({
    title: `${level(emailShare)} e-mail: held-out loss against training tokens (mean over seeds; band: 95% CI; dashed: reference models' mean)`,
    width: 640,
    height: 320,
    layer: [
      {
        data: { values: points },
        mark: { type: 'errorband', extent: 'ci', opacity: 0.2 },
        encoding: {
          x,
          y: { field: 'heldOutLoss', type: 'quantitative', scale: { zero: false } },
          color: { field: 'condition' },
        },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: {
            aggregate: 'mean',
            field: 'heldOutLoss',
            type: 'quantitative',
            title: 'nats per byte',
            scale: { zero: false },
          },
          color: { field: 'condition', type: 'nominal' },
        },
      },
      {
        data: { values: [{ heldOutLoss: reference }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { y: { field: 'heldOutLoss', type: 'quantitative' } },
      },
    ],
  });
}

async function sweepChart(result: StudyResult): Promise<string> {
  return svgChart({
    title: `SLM's final held-out loss by selection ratio at ${level(result.settings.levels[0]!.emailShare)} e-mail (mean, 95% CI)`,
    width: 420,
    height: 240,
    data: {
      values: result.summary.sweep.map((p) => ({
        ...p,
        low: p.ci95?.[0] ?? p.mean,
        high: p.ci95?.[1] ?? p.mean,
      })),
    },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'ratio', type: 'quantitative', title: 'selection ratio', scale: { domain: [0.2, 1] } },
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
  });
}

/** Writes study.json, study.md and study.html into `directory`; returns the HTML path. */
export async function writeStudyReport(
  result: StudyResult,
  directory: string,
  command: string,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'study.json'), `${JSON.stringify(result, null, 1)}\n`);
  await writeFile(join(directory, 'study.md'), `${studyMarkdown(result)}\n`);
  const curves = await Promise.all(
    result.settings.levels.map(({ emailShare }) => curveChart(result, emailShare)),
  );
  const s = result.summary;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rho-slm study: does SLM help?</title>
<style>
body { font: 15px/1.6 system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
.headline { background: #f4f4f0; padding: 1rem; border-left: 4px solid #c33; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { text-align: left; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid #ddd; }
</style></head><body>
<h1>Selective Language Modeling: does it help?</h1>
<div class="headline"><ul>${verdictSentences(result)
    .map((t) => `<li>${escapeHtml(t)}</li>`)
    .join('')}</ul></div>
<h2>Claims (seed-paired differences, Student-t 95% intervals)</h2>
${htmlTable(CLAIM_HEAD, claimRows(s.claims))}
<h2>Held-out loss</h2>
${curves.map((svg) => `<figure>${svg}</figure>`).join('\n')}
${htmlTable(TABLE_HEAD, tableRows(result))}
<h2>Tokens to reach CLM's final loss</h2>
${htmlTable(REACH_HEAD, reachRows(result))}
<h2>Ratio sweep</h2>
<figure>${await sweepChart(result)}</figure>
<h2>What was trained on</h2>
${htmlTable(['condition', 'e-mail', 'e-mail share of trained tokens', 'of batches'], shareRows(result))}
<h2>Settings</h2>
<pre>${escapeHtml(JSON.stringify({ commit: result.commit, machine: result.machine, settings: result.settings }, null, 2))}</pre>
<p>Produced by <code>${escapeHtml(command)}</code>. Every number is in study.json. Claims compare SLM with ${CLAIM_OTHERS.join(', ')}.</p>
</body></html>
`;
  const path = join(directory, 'study.html');
  await writeFile(path, html);
  return path;
}
