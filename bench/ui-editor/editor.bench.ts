// The editor with a 500-node pipeline, in Debian's Chromium: time from opening the pipeline to the
// first node on screen and to every node mounted, and frame times while panning the canvas. Runs
// against a real stack (the one the browser tests use), with the UI as built for production.
import { launchBrowser } from '../../builder-ui/e2e/browser.js';
import { signIn } from '../../builder-ui/e2e/helpers.js';
import { startStack } from '../../builder-ui/e2e/stack.js';

const NODES = 500;

function bigPipeline(id: string) {
  const nodes = [
    {
      id: 'n0',
      type: 'source.generate',
      config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
      position: { x: 0, y: 0 },
    },
  ];
  const edges: { from: string; to: string }[] = [];
  for (let i = 1; i < NODES; i++) {
    const parent = `n${Math.floor((i - 1) / 2)}`; // a binary tree: wide and deep, like real graphs
    nodes.push({
      id: `n${i}`,
      type: 'transform.sql',
      config: { sql: `select * from {{ inputs.${parent} }}` } as never,
      position: { x: (i % 25) * 260, y: Math.floor(i / 25) * 140 },
    });
    edges.push({ from: parent, to: `n${i}` });
  }
  return { apiVersion: 'tributary/v1', id, name: `Bench ${NODES} nodes`, nodes, edges };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function editorBench(): Promise<string[]> {
  const stack = await startStack();
  const browser = await launchBrowser();
  try {
    const id = `bench-ui-${Date.now().toString(36)}`;
    const created = await fetch(`${stack.baseUrl}/api/pipelines`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(bigPipeline(id)),
    });
    if (created.status !== 201)
      throw new Error(`could not create the pipeline: ${created.status} ${await created.text()}`);
    const { page, close } = await browser.newPage();
    await signIn({ page, baseUrl: stack.baseUrl, token: stack.token, dataDir: stack.dataDir });

    const started = Date.now();
    await page.goto(`${stack.baseUrl}/pipelines/${id}`);
    await page.locator('.react-flow__node').first().waitFor({ timeout: 60_000 });
    const firstNodeMs = Date.now() - started;
    // Page scripts are passed as text: tsx's name helpers would not exist inside the page.
    await page.waitForFunction(
      `document.querySelectorAll('.react-flow__node').length >= ${NODES}`,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const allNodesMs = Date.now() - started;

    // Frame times while dragging the empty canvas around, measured inside the page.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const pane = await page.locator('.react-flow__pane').boundingBox();
    if (!pane) throw new Error('no canvas pane');
    const x = pane.x + 20;
    const y = pane.y + pane.height - 20;
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let i = 1; i <= 120; i++) {
      await page.mouse.move(x + Math.sin(i / 10) * 300, y - Math.abs(Math.cos(i / 10)) * 200, { steps: 1 });
    }
    await page.mouse.up();
    const frames = (await page.evaluate(`(() => {
      window.__stop = true;
      return window.__frames.slice(1);
    })()`)) as number[];
    await close();
    const sorted = [...frames].sort((a, b) => a - b);
    return [
      `editor with ${NODES} nodes (headless chromium, no GPU): first node after ${firstNodeMs} ms, all ${NODES} mounted after ${allNodesMs} ms`,
      `  panning: ${frames.length} frames, median ${percentile(sorted, 0.5).toFixed(1)} ms, p95 ${percentile(sorted, 0.95).toFixed(1)} ms, ` +
        `max ${sorted[sorted.length - 1]!.toFixed(1)} ms (16.7 ms = 60 fps)`,
    ];
  } finally {
    await browser.close();
    await stack.stop();
  }
}
