// editor: the builder opening a pipeline of 100, 500 and 1,000 nodes in Debian's Chromium (headless,
// no GPU): time from navigation to the first node on screen and to every node mounted (interactive),
// and frames per second while panning the canvas. The floor beside each is the same editor with a
// one-node pipeline in the same browser: the app's own load and an all but empty React Flow canvas.
// Runs against a real stack (the one the browser tests use), with the UI as built for production.
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../../builder-ui/e2e/browser.js';
import { signIn } from '../../builder-ui/e2e/helpers.js';
import { startStack, type Stack } from '../../builder-ui/e2e/stack.js';
import type { BenchResult } from '../lib/bench.ts';
import type { Figure } from '../lib/figures.ts';
import { repeated } from '../lib/measure.ts';

const SIZES = [100, 500, 1_000];

function bigPipeline(id: string, size: number) {
  const nodes = [
    {
      id: 'n0',
      type: 'source.generate',
      config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
      position: { x: 0, y: 0 },
    },
  ];
  const edges: { from: string; to: string }[] = [];
  for (let i = 1; i < size; i++) {
    const parent = `n${Math.floor((i - 1) / 2)}`; // a binary tree: wide and deep, like real graphs
    nodes.push({
      id: `n${i}`,
      type: 'transform.sql',
      config: { sql: `select * from {{ inputs.${parent} }}` } as never,
      position: { x: (i % 25) * 260, y: Math.floor(i / 25) * 140 },
    });
    edges.push({ from: parent, to: `n${i}` });
  }
  return { apiVersion: 'tributary/v1', id, name: `Bench ${size} nodes`, nodes, edges };
}

async function createPipeline(stack: Stack, size: number): Promise<string> {
  const id = `bench-ui-${size}-${Date.now().toString(36)}`;
  const created = await fetch(`${stack.baseUrl}/api/pipelines`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${stack.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(bigPipeline(id, size)),
  });
  if (created.status !== 201)
    throw new Error(`could not create the pipeline: ${created.status} ${await created.text()}`);
  return id;
}

/** Frames per second while dragging the empty canvas around, counted inside the page. */
async function panningFps(page: Page): Promise<number> {
  // Page scripts are passed as text: tsx's name helpers would not exist inside the page.
  await page.evaluate(`(() => {
    window.__frames = 0;
    window.__stop = false;
    const tick = () => {
      window.__frames++;
      if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const pane = await page.locator('.react-flow__pane').boundingBox();
  if (!pane) throw new Error('no canvas pane');
  const x = pane.x + 20;
  const y = pane.y + pane.height - 20;
  const started = Date.now();
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 120; i++) {
    await page.mouse.move(x + Math.sin(i / 10) * 300, y - Math.abs(Math.cos(i / 10)) * 200, { steps: 1 });
  }
  await page.mouse.up();
  const frames = (await page.evaluate(
    `(() => { window.__stop = true; return window.__frames; })()`,
  )) as number;
  return frames / ((Date.now() - started) / 1000);
}

interface Opening {
  firstNodeMs: number;
  interactiveMs: number;
  fps: number;
}

async function openPipeline(browser: Browser, stack: Stack, id: string, size: number): Promise<Opening> {
  const { page, close } = await browser.newPage();
  try {
    await signIn({ page, baseUrl: stack.baseUrl, token: stack.token, dataDir: stack.dataDir });
    const started = Date.now();
    await page.goto(`${stack.baseUrl}/pipelines/${id}`);
    await page.locator('.react-flow__node').first().waitFor({ timeout: 60_000 });
    const firstNodeMs = Date.now() - started;
    await page.waitForFunction(
      `document.querySelectorAll('.react-flow__node').length >= ${size}`,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const interactiveMs = Date.now() - started;
    return { firstNodeMs, interactiveMs, fps: await panningFps(page) };
  } finally {
    await close();
  }
}

/** Openings of one pipeline after a warm-up opening. */
async function openings(browser: Browser, stack: Stack, size: number): Promise<Opening[]> {
  const id = await createPipeline(stack, size);
  return repeated(() => openPipeline(browser, stack, id, size));
}

export async function editorBench(): Promise<BenchResult> {
  const stack = await startStack();
  const browser = await launchBrowser();
  try {
    const floor = await openings(browser, stack, 1);
    const figures: Figure[] = [];
    for (const size of SIZES) {
      const ours = await openings(browser, stack, size);
      const figure = (
        name: string,
        unit: string,
        pick: (o: Opening) => number,
        goal: Figure['goal'],
      ): Figure => ({
        bench: 'editor',
        name: `${size.toLocaleString('en-US')} nodes, ${name}`,
        unit,
        ours: ours.map(pick),
        baselineName: '1-node editor',
        baseline: floor.map(pick),
        goal,
      });
      const last = size === SIZES[SIZES.length - 1];
      figures.push(
        figure('first node', 'ms', (o) => o.firstNodeMs, { kind: 'none', note: 'for reference' }),
        figure(
          'interactive',
          'ms',
          (o) => o.interactiveMs,
          last ? { kind: 'at-most', value: 1500 } : { kind: 'none', note: '≤ 1500 ms at 1,000' },
        ),
        figure('panning', 'fps', (o) => o.fps, { kind: 'at-least', value: 30 }),
      );
    }
    return {
      figures,
      notes: ['editor: headless Chromium without GPU; openings are sequential in one browser'],
    };
  } finally {
    await browser.close();
    await stack.stop();
  }
}
