// A periodic pass that catches up at start and stops cleanly: the background loops of the worker
// and API (run records, telemetry, OpenLineage) share it. The first pass starts at once (what
// happened while the process was down is caught up on), then one every `intervalMs`; a pass never
// overlaps the one before (a tick that finds one running is skipped); a failed pass is handed to
// `onError` and the next tick tries again; `stop()` stops the ticks and waits for the pass in flight.
export interface PeriodicPass {
  /** Settles when the first pass has ended, however it ended. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export function startPeriodic<T>(
  pass: () => Promise<T>,
  intervalMs: number,
  handlers: { onResult?: (result: T) => void; onError: (error: Error) => void },
): PeriodicPass {
  let current: Promise<void> = Promise.resolve();
  let running = false;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return current;
    running = true;
    current = pass()
      .then((result) => handlers.onResult?.(result))
      .catch((error: Error) => handlers.onError(error))
      .finally(() => {
        running = false;
      });
    return current;
  };
  const timer = setInterval(tick, intervalMs);
  // The loop never keeps a process alive on its own: stopping the process stops it.
  timer.unref();
  const caughtUp = tick();
  return {
    caughtUp,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
