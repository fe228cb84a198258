// The run shown in the editor: follows its event stream (polling if the stream breaks), puts each
// step's progress on the canvas, and keeps `?run=` in the address so a reload shows it again.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Api, followRun, messageOf } from '../api/client.ts';
import { isFinished, type RunDetail } from '../api/types.ts';
import { formatDuration } from '../components/ui.tsx';
import { runDurationMs } from '../model/run-facts.ts';
import { baselineOf, editorStore } from '../store/editor.ts';
import { settleRunToast } from '../store/toasts.ts';

export interface RunFollower {
  runId: string | null;
  run: RunDetail | null;
  error: string | null;
  open(runId: string): void;
  close(): void;
}

export function useRunFollower(): RunFollower {
  const [runId, setRunId] = useState<string | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stop = useRef<(() => void) | null>(null);

  const open = useCallback((newRunId: string) => {
    stop.current?.();
    setRunId(newRunId);
    setRun(null);
    setError(null);
    const url = new URL(location.href);
    url.searchParams.set('run', newRunId);
    history.replaceState(null, '', url.pathname + url.search);
    // The graph as it is now is the one the run ran: a node edited from here on drops its status.
    const store = editorStore.getState();
    store.setRunSteps({}, baselineOf(store.nodes));
    const show = (r: RunDetail) => {
      setRun(r);
      editorStore.getState().setRunSteps(r.steps ?? {});
      // The "Run started" notice ends with the run, saying how it ended.
      if (isFinished(r.status))
        settleRunToast(
          r,
          `Run ${r.status.replace(/_/g, ' ')} in ${formatDuration(runDurationMs(r))}: ${r.runId}`,
        );
    };
    let polling: number | undefined;
    const poll = () => {
      Api.run(newRunId)
        .then((r) => {
          show(r);
          if (!isFinished(r.status)) polling = window.setTimeout(poll, 1500);
        })
        .catch((e: unknown) => setError(messageOf(e)));
    };
    const unfollow = followRun(
      newRunId,
      show,
      () => poll(),
      () => poll(),
    );
    stop.current = () => {
      unfollow();
      window.clearTimeout(polling);
    };
  }, []);

  const close = useCallback(() => {
    stop.current?.();
    setRunId(null);
    setRun(null);
    editorStore.getState().setRunSteps({}, {});
    history.replaceState(null, '', location.pathname);
  }, []);

  useEffect(
    () => () => {
      stop.current?.();
      editorStore.getState().setRunSteps({}, {});
    },
    [],
  );

  return { runId, run, error, open, close };
}
