// Checks the built documentation site (docs/site): every internal link of every page resolves to
// a file (and an anchor, when it names one), and in headless Chromium the pages render and the
// search finds `selectiveLoss`. Saves a screenshot to docs/site/screenshot.png.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { withChromiumPage } from './chromium.mjs';

const site = resolve(process.argv[2] ?? 'docs/site');
const failures = [];

async function* pages(directory) {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* pages(path);
    else if (entry.name.endsWith('.html')) yield path;
  }
}

const anchors = new Map();
const idsOf = async (path) => {
  if (!anchors.has(path))
    anchors.set(
      path,
      new Set([...(await readFile(path, 'utf8')).matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])),
    );
  return anchors.get(path);
};

let links = 0;
let pageCount = 0;
for await (const page of pages(site)) {
  pageCount++;
  const html = await readFile(page, 'utf8');
  for (const [, href] of html.matchAll(/\shref="([^"]+)"/g)) {
    if (/^(https?:|mailto:|data:|javascript:)/.test(href)) continue;
    const [path, anchor] = href.split('#');
    const target = path === '' ? page : resolve(dirname(page), decodeURI(path.split('?')[0]));
    links++;
    const exists = await stat(target).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) failures.push(`${relative(site, page)}: link to missing ${href}`);
    // typedoc builds hierarchy.html with a script and its "view hierarchy" deep links name no
    // element: checked as a page, not as an anchor.
    else if (
      anchor &&
      target.endsWith('.html') &&
      !target.endsWith('hierarchy.html') &&
      !(await idsOf(target)).has(decodeURIComponent(anchor))
    ) {
      failures.push(`${relative(site, page)}: link to missing anchor ${href}`);
    }
  }
}

await withChromiumPage(
  async (page) => {
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`file://${join(site, 'index.html')}`);
    if (!(await page.title()).includes('rho-slm')) failures.push(`index title is "${await page.title()}"`);
    await page.click('#tsd-search-trigger');
    await page.fill('#tsd-search-input', 'selectiveLoss');
    await page
      .waitForSelector('#tsd-search-results li', { timeout: 10_000 })
      .catch(() => failures.push('search shows no results for selectiveLoss'));
    const results = await page.$$eval('#tsd-search-results li', (items) =>
      items.map((item) => item.textContent ?? ''),
    );
    if (!results.some((text) => text.includes('selectiveLoss')))
      failures.push(`search results lack selectiveLoss: ${results.slice(0, 5).join(' | ')}`);
    await page.screenshot({ path: join(site, 'screenshot.png') });
    await page.goto(`file://${join(site, 'documents', 'What_SLM_is.html')}`);
    if (!(await page.textContent('body'))?.includes('excess loss'))
      failures.push('the guide "What SLM is" did not render');
    if (errors.length > 0) failures.push(`page errors: ${errors.join('; ')}`);
    console.log(
      `docs site: ${pageCount} pages, ${links} internal links checked; search found ${results.length} results for selectiveLoss`,
    );
  },
  { width: 1200, height: 900 },
);
if (failures.length > 0) {
  console.error(`docs site check FAILED:\n- ${failures.slice(0, 30).join('\n- ')}`);
  process.exit(1);
}
console.log('docs site check passed');
