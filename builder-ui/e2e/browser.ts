// Launches Debian's Chromium through playwright-core with a fresh profile, and gives each scenario
// a page that records console errors, uncaught exceptions and server errors (5xx) so a scenario
// fails on any of them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export interface Browser {
  newPage(): Promise<{ page: Page; problems: string[]; close(): Promise<void> }>;
  close(): Promise<void>;
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'tributary-e2e-profile-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1600, height: 960 },
  });
  context.setDefaultTimeout(20_000);
  return {
    async newPage() {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
      page.on('console', (message) => {
        // Chromium logs every non-2xx fetch as "Failed to load resource"; scenarios that provoke
        // 4xx on purpose (a 404 route, a refused save) are not broken pages. 5xx are caught below.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
          problems.push(`console error: ${message.text()}`);
      });
      page.on('response', (response) => {
        // A 503 with Retry-After is the API saying plainly that Temporal or Postgres is down (the
        // outage scenario provokes it); any other 5xx is a broken server.
        const outage = response.status() === 503 && !!response.headers()['retry-after'];
        if (response.status() >= 500 && !outage)
          problems.push(`server error ${response.status()} on ${response.url()}`);
      });
      return {
        page,
        problems,
        close: async () => {
          await page.evaluate(() => localStorage.clear()).catch(() => {});
          await page.close();
        },
      };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
