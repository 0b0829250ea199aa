// Opens the browser playground in headless Chromium and checks that it runs: training starts, the
// held-out loss falls for CLM, SLM and random selection, and selected tokens appear. Saves a screenshot beside it.
import { join, resolve } from 'node:path';
import { withChromiumPage } from './chromium.mjs';

const directory = resolve(process.argv[2] ?? 'docs/playground');
const failures = [];
await withChromiumPage(async (page) => {
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
  const started = Date.now();
  await page.goto(`file://${join(directory, 'index.html')}`);
  await page.waitForFunction(() => document.body.dataset.done !== undefined, undefined, { timeout: 240_000 });
  const state = await page.evaluate(() => ({
    done: document.body.dataset.done,
    status: document.getElementById('status')?.textContent,
    backend: document.getElementById('backend')?.textContent,
    clm: Number(document.getElementById('loss-clm')?.textContent),
    slm: Number(document.getElementById('loss-slm')?.textContent),
    random: Number(document.getElementById('loss-random')?.textContent),
    selected: document.querySelectorAll('#tokens .token.selected').length,
    lines: document.querySelectorAll('#chart polyline').length,
    legend: document.querySelectorAll('#chart .legend-entry').length,
    chartText: document.getElementById('chart')?.textContent ?? '',
  }));
  await page.screenshot({ path: join(directory, 'screenshot.png'), fullPage: true });
  console.log(
    `playground (${state.backend}, ${((Date.now() - started) / 1000).toFixed(0)} s): ${state.status}; held-out loss CLM ${state.clm}, SLM ${state.slm}, random ${state.random}; ${state.selected} selected tokens shown`,
  );
  if (state.done !== 'true') failures.push(`finished with: ${state.status}`);
  if (!(state.clm < Math.log(259) && state.slm < Math.log(259) && state.random < Math.log(259)))
    failures.push('held-out loss did not fall below the uniform loss ln 259');
  if (state.selected === 0) failures.push('no selected tokens shown');
  if (state.lines !== 3) failures.push(`chart has ${state.lines} lines, expected 3`);
  if (state.legend !== 3) failures.push(`chart legend has ${state.legend} entries, expected 3`);
  for (const label of ['training steps', 'held-out loss', 'CLM', 'SLM', 'random'])
    if (!state.chartText.includes(label)) failures.push(`chart lacks the label "${label}"`);
});
if (failures.length > 0) {
  console.error(`playground check FAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('playground check passed');
