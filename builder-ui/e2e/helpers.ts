// What the scenarios share: signing in, creating a pipeline, dragging palette items onto the
// canvas, drawing edges between handles, and waiting for text (playwright-core has no expect()).
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';

export interface ScenarioContext {
  page: Page;
  baseUrl: string;
  token: string;
  /** Where the stack's file connectors read, when the test may write there. */
  dataDir: string | undefined;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

export async function signIn({ page, baseUrl, token }: ScenarioContext): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
}

export async function newPipeline(page: Page, name: string, id?: string): Promise<void> {
  await page.getByRole('button', { name: 'New pipeline' }).click();
  await page.getByLabel('Pipeline name').fill(name);
  if (id) await page.getByLabel('Pipeline id').fill(id);
  await page.getByRole('button', { name: 'Create pipeline' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
  await page.getByRole('note', { name: 'How to start' }).waitFor();
}

/** Drags a palette item onto the canvas at a point relative to the canvas' top-left corner. */
export async function dragToCanvas(
  page: Page,
  paletteLabel: string,
  at: { x: number; y: number },
): Promise<void> {
  const canvas = page.locator('.react-flow__pane');
  await page.getByRole('button', { name: paletteLabel }).dragTo(canvas, { targetPosition: at });
}

export const node = (page: Page, id: string): Locator => page.locator(`.react-flow__node[data-id="${id}"]`);
export const edge = (page: Page, from: string, to: string): Locator =>
  page.locator(`.react-flow__edge[aria-label="Edge from ${from} to ${to}"]`);

async function centre(locator: Locator) {
  const box = await locator.boundingBox();
  assert.ok(box, 'element has no box');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Draws an edge by dragging from `from`'s output handle to `to`'s input handle. */
export async function connect(page: Page, from: string, to: string): Promise<void> {
  const start = await centre(page.getByLabel(`Output of ${from}`, { exact: true }));
  const end = await centre(page.getByLabel(`Input of ${to}`, { exact: true }));
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move((start.x + end.x) / 2, (start.y + end.y) / 2 + 20, { steps: 8 });
  await page.mouse.move(end.x, end.y, { steps: 8 });
}

export async function release(page: Page): Promise<void> {
  await page.mouse.up();
}

export async function connectAndRelease(page: Page, from: string, to: string): Promise<void> {
  await connect(page, from, to);
  await release(page);
  await edge(page, from, to).waitFor({ state: 'attached' });
}

/** Selects a node by clicking its title (not a handle). */
export async function selectNode(page: Page, id: string): Promise<void> {
  await node(page, id).locator('.node-header').click();
  await page.getByRole('complementary', { name: `Configuration of ${id}` }).waitFor();
}

export async function waitForText(locator: Locator, text: string | RegExp, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.textContent().catch(() => '')) ?? '';
    if (typeof text === 'string' ? last.includes(text) : text.test(last)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Expected ${String(locator)} to contain ${String(text)}; it says "${last.slice(0, 500)}"`);
}

export async function waitForCount(locator: Locator, count: number, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = -1;
  while (Date.now() < deadline) {
    last = await locator.count();
    if (last === count) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Expected ${count} of ${String(locator)}, found ${last}`);
}

/** Calls the API directly, for setting a scenario up. */
export async function apiCall<T>(
  ctx: ScenarioContext,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${ctx.baseUrl}/api${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ctx.token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A small valid pipeline: generate → SQL (with a `factor` param). */
export function samplePipeline(id: string, factor = 10) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: `Sample ${id}`,
    project: 'default',
    params: { factor: { type: 'integer', default: factor } },
    settings: { keepStaging: true },
    nodes: [
      {
        id: 'gen',
        type: 'source.generate',
        config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
        position: { x: 0, y: 0 },
      },
      {
        id: 'scaled',
        type: 'transform.sql',
        config: { sql: 'select n, n * {{ params.factor }}::int as m from {{ inputs.gen }}' },
        position: { x: 300, y: 0 },
      },
    ],
    edges: [{ from: 'gen', to: 'scaled' }],
  };
}

export async function runToEnd(ctx: ScenarioContext, pipelineId: string, params: Record<string, unknown>) {
  const started = await apiCall<{ runId: string }>(ctx, 'POST', `/pipelines/${pipelineId}/runs`, { params });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const run = await apiCall<{ status: string }>(ctx, 'GET', `/runs/${started.runId}`);
    if (run.status !== 'running') return { runId: started.runId, status: run.status };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Run ${started.runId} did not end within 90 s`);
}

/**
 * Presses the editor's Run. It starts the run at once with the params' defaults; only a pipeline with
 * a param that needs a value asks first (then the dialog is filled with its defaults and started).
 */
export async function pressRun(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Run pipeline' });
  await Promise.race([
    page.getByRole('progressbar', { name: 'Run progress' }).waitFor(),
    dialog.waitFor().then(() => dialog.getByRole('button', { name: /start run/i }).click()),
  ]);
}
