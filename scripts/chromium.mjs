// Headless Chromium for the report, docs and playground checks: Debian's chromium driven by
// playwright-core, a fresh empty profile, and the flags that keep it off the closed network.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Runs `use(page)` in a fresh headless Chromium and closes it afterwards. */
export async function withChromiumPage(use, viewport = { width: 1100, height: 900 }) {
  const profile = await mkdtemp(join(tmpdir(), 'rho-slm-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport,
  });
  try {
    return await use(await browser.newPage());
  } finally {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
  }
}
