// The run event stream (SSE): polls the run's progress and sends an event when it changed; ends
// the stream once the run has ended or the client went away.
import type { Response } from 'express';
import type { RunDetail } from '../client/runs.js';
import type { ApiContext } from './context.js';
import { isFinished, runDetailView } from './run-view.js';

const KEEPALIVE_MS = 15_000;

export async function followRun(deps: ApiContext, first: RunDetail, res: Response): Promise<void> {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    // Proxies (nginx) must not buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  let gone = false;
  // The response's close, not the request's: a GET's request side is over once it is read.
  res.on('close', () => (gone = true));
  let id = 0;
  let lastSentAt = Date.now();
  const send = (event: string, data: unknown) => {
    res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    lastSentAt = Date.now();
  };
  res.write('retry: 2000\n\n');

  let run = first;
  let last = '';
  while (!gone) {
    const view = runDetailView(run);
    const key = JSON.stringify(view);
    if (key !== last) {
      send('progress', view);
      last = key;
    } else if (Date.now() - lastSentAt > KEEPALIVE_MS) {
      res.write(': keep-alive\n\n');
      lastSentAt = Date.now();
    }
    if (isFinished(run.status)) {
      send('end', { runId: run.runId, status: run.status });
      break;
    }
    await new Promise((r) => setTimeout(r, deps.ssePollMs));
    if (gone) break;
    try {
      run = await deps.runs.get(run.runId);
    } catch (error) {
      send('error', { message: `Could not read the run's progress: ${(error as Error).message}` });
      break;
    }
  }
  res.end();
}
