// Checks a demo report: report.json has every section with finite numbers, and report.html renders
// its charts in headless Chromium (Debian's chromium driven by playwright-core); saves a screenshot
// beside the report. Usage: node scripts/check-demo-report.mjs <report-directory>
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withChromiumPage } from './chromium.mjs';

const directory = resolve(process.argv[2] ?? 'demo-report');
const report = JSON.parse(await readFile(join(directory, 'report.json'), 'utf8'));
const failures = [];
const finite = (value, path) => {
  if (typeof value === 'number' && !Number.isFinite(value)) failures.push(`${path} is ${value}`);
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) finite(item, `${path}[${i}]`);
  else if (value !== null && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) finite(item, `${path}.${key}`);
};
for (const section of ['settings', 'data', 'curves', 'headline', 'selection', 'windows', 'categories']) {
  if (report[section] === undefined) failures.push(`report.json lacks '${section}'`);
}
finite(report, 'report');
if (report.curves.clm.length < 2 || report.curves.slm.length < 2)
  failures.push('curves have fewer than two points');
if (report.selection.length === 0 || report.windows.length === 0)
  failures.push('no selection analysis or token windows');

await withChromiumPage(async (page) => {
  await page.goto(`file://${join(directory, 'report.html')}`);
  const charts = await page.$$eval('figure.chart svg', (svgs) =>
    svgs.map((svg) => ({
      marks: svg.querySelectorAll('path, rect, line').length,
      width: svg.getBoundingClientRect().width,
    })),
  );
  if (charts.length < 3) failures.push(`expected 3 charts, found ${charts.length}`);
  for (const [i, chart] of charts.entries())
    if (chart.marks < 5 || chart.width < 100)
      failures.push(`chart ${i} looks empty (${chart.marks} marks, ${chart.width}px wide)`);
  const selected = await page.$$eval('.token.selected', (spans) => spans.length);
  if (selected === 0) failures.push('no selected tokens shown');
  await page.screenshot({ path: join(directory, 'report.png'), fullPage: true });
  console.log(
    `report.html: ${charts.length} charts (${charts.map((c) => c.marks).join(', ')} marks), ${selected} selected tokens shown; screenshot ${join(directory, 'report.png')}`,
  );
});
if (failures.length > 0) {
  console.error(`demo report check FAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('demo report check passed');
