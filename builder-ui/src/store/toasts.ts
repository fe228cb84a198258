// Short notices ("Published version 3") shown in a live region, dismissed after a few seconds. A
// notice about something that is still going on (a run) carries its key and stays until `settle`
// replaces it with how it ended, so it never outlives (or undersells) what it is about.
import { create } from 'zustand';

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  /** What it is about ("run:<id>"): a later notice with the same key replaces it. */
  key?: string;
}

interface ToastState {
  toasts: Toast[];
  push(kind: Toast['kind'], text: string, options?: { key?: string; sticky?: boolean }): void;
  /** Replaces the notice with `key`, if it is still shown, by one that goes after a few seconds. */
  settle(key: string, kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
}

let next = 1;
const SHOWN_MS = { info: 4_000, success: 4_000, error: 10_000 };
// A sticky notice goes at the latest after this, in case what it is about is never followed to its end.
const STICKY_MAX_MS = 10 * 60_000;

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push(kind, text, options = {}) {
    const id = next++;
    const others = options.key ? get().toasts.filter((t) => t.key !== options.key) : get().toasts;
    set({ toasts: [...others, { id, kind, text, ...(options.key ? { key: options.key } : {}) }] });
    setTimeout(() => get().dismiss(id), options.sticky ? STICKY_MAX_MS : SHOWN_MS[kind]);
  },
  settle(key, kind, text) {
    if (get().toasts.some((t) => t.key === key)) get().push(kind, text, { key });
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export const toast = (kind: Toast['kind'], text: string, options?: { key?: string; sticky?: boolean }) =>
  useToasts.getState().push(kind, text, options);

/** The notice of a run that was started: it stays until the run ends, then says how it ended. */
export const runToast = (runId: string, text: string) =>
  toast('info', text, { key: `run:${runId}`, sticky: true });

export const settleRunToast = (run: { runId: string; status: string }, text: string) =>
  useToasts.getState().settle(`run:${run.runId}`, run.status === 'succeeded' ? 'success' : 'error', text);
