// The load / error / reload pattern of every screen in one hook: a request when the inputs change,
// its answer or a readable error, and a reload after a change. An answer that arrives after the
// inputs changed (or the component left) is dropped, so a slow reply never overwrites a newer one.
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import { messageOf } from './client.ts';

export interface Resource<T> {
  /** null until the first answer (and while reloading after the inputs changed). */
  data: T | null;
  error: string | null;
  reload: () => void;
}

export function useResource<T>(
  load: () => Promise<T>,
  deps: DependencyList,
  /** How an error is told; messageOf by default. */
  describe: (error: unknown) => string = messageOf,
): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // A change of inputs shows the loading state, not the previous inputs' data; a reload keeps it.
  useEffect(() => setData(null), deps);
  useEffect(() => {
    let live = true;
    setError(null);
    load()
      .then((value) => live && setData(value))
      .catch((e: unknown) => live && setError(describe(e)));
    return () => {
      live = false;
    };
    // The caller's deps decide when to load again; `load` is a new closure on every render.
  }, [...deps, generation]);
  return { data, error, reload };
}

/**
 * Reloads a resource when `deps` change after the first render, keeping what it shows meanwhile
 * (a run's status moved on: its trail is read again without a flash of "Loading").
 */
export function useReloadOn(reload: () => void, deps: DependencyList): void {
  const mounted = useRef(false);
  useEffect(() => {
    if (!mounted.current) {
      mounted.current = true;
      return;
    }
    reload();
    // The caller's deps decide when to read again.
  }, deps);
}
