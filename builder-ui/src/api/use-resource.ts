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
  // Which inputs an answer belongs to, and which request is the newest answered: an answer counts
  // while its inputs are current and no later request has answered. A reload does not drop the
  // request before it, so a list polled faster than it answers still updates (in order).
  const inputs = useRef(0);
  const issued = useRef(0);
  const answered = useRef(0);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  // A change of inputs shows the loading state, not the previous inputs' data; a reload keeps it.
  useEffect(() => {
    inputs.current += 1;
    setData(null);
  }, deps);
  useEffect(() => {
    const of = inputs.current;
    const request = ++issued.current;
    const counts = () => {
      if (!mounted.current || inputs.current !== of || request < answered.current) return false;
      answered.current = request;
      return true;
    };
    setError(null);
    load()
      .then((value) => counts() && setData(value))
      .catch((e: unknown) => counts() && setError(describe(e)));
    // The caller's deps decide when to load again; `load` is a new closure on every render.
  }, [...deps, generation]);
  return { data, error, reload };
}

/**
 * Reloads a resource when `deps` change after the first render, keeping what it shows meanwhile
 * (a run's status moved on: its trail is read again without a flash of "Loading"). With `delayMs`
 * the reload waits until the deps have rested that long (a search box asks once typing pauses).
 */
export function useReloadOn(reload: () => void, deps: DependencyList, delayMs = 0): void {
  const mounted = useRef(false);
  useEffect(() => {
    if (!mounted.current) {
      mounted.current = true;
      return;
    }
    if (!delayMs) {
      reload();
      return;
    }
    const timer = window.setTimeout(reload, delayMs);
    return () => window.clearTimeout(timer);
    // The caller's deps decide when to read again.
  }, deps);
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PagedResource<T> {
  /** The pages read so far, in order; null until the first answer. */
  items: T[] | null;
  error: string | null;
  /** Reads the first page again (the pages after it are dropped when it answers). */
  reload: () => void;
  hasMore: boolean;
  loadingMore: boolean;
  /** Reads the next page and appends it. */
  more: () => void;
  /** Shows an error (of an action on the list) until the first page is read again. */
  fail: (message: string) => void;
}

/**
 * A paged list through useResource: the first page is the resource; "load more" appends the pages
 * after it. What was appended (and an error since) belongs to the first page it followed, so a
 * reload, or a page that answers after the list was read again, never mixes two readings.
 */
export function usePagedResource<T>(
  fetchPage: (cursor?: string) => Promise<Page<T>>,
  deps: DependencyList,
): PagedResource<T> {
  const first = useResource(() => fetchPage(), deps);
  const page = first.data;
  const [after, setAfter] = useState<{ of: Page<T>; items: T[]; nextCursor: string | null } | null>(null);
  const [failure, setFailure] = useState<{ of: Page<T> | null; message: string } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // An error tells against the first page shown when it arrives (a reload may have answered meanwhile).
  const shown = useRef(page);
  useEffect(() => {
    shown.current = page;
  }, [page]);
  const fail = (message: string) => setFailure({ of: shown.current, message });
  const rest = after && after.of === page ? after : null;
  const cursor = rest ? rest.nextCursor : (page?.nextCursor ?? null);
  const more = () => {
    if (!page || !cursor) return;
    setLoadingMore(true);
    fetchPage(cursor)
      .then((next) =>
        setAfter({ of: page, items: [...(rest?.items ?? []), ...next.items], nextCursor: next.nextCursor }),
      )
      .catch((e: unknown) => fail(messageOf(e)))
      .finally(() => setLoadingMore(false));
  };
  return {
    items: page ? [...page.items, ...(rest?.items ?? [])] : null,
    error: first.error ?? (failure && failure.of === page ? failure.message : null),
    reload: first.reload,
    hasMore: !!cursor,
    loadingMore,
    more,
    fail,
  };
}
