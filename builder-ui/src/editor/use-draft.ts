// The editor's draft: every edit is saved to the pipeline's draft a moment after it is made (a draft
// is not a version; nothing but the editor's Run sees it), Publish makes the next version of it, and
// Discard drops it for the published version. The store's `dirty` means "not in the draft yet".
import { useCallback, useEffect, useRef, useState } from 'react';
import { Api, ApiError, isOutage, messageOf } from '../api/client.ts';
import type { Workspace } from '../api/types.ts';
import { editorStore } from '../store/editor.ts';
import { useOutage } from '../store/outage.ts';

const AUTOSAVE_MS = 800;

export type DraftState = 'published' | 'saving' | 'saved' | 'error';

export interface Draft {
  /** published: the editor shows the current version as it is; saved/saving: there is a draft. */
  state: DraftState;
  error: string | null;
  /** The error is an outage (Temporal, Postgres or the API down): edits are kept and saved when it is back. */
  outage: boolean;
  /** Saves pending edits now; false when they could not be saved. */
  flush(): Promise<boolean>;
  /** Publishes the draft as the next version, with what the publisher said about it. */
  publish(message?: string): Promise<{ version: number } | null>;
  discard(): Promise<boolean>;
  /** There are unpublished changes (saved in the draft); a run uses the draft then. */
  hasDraft: boolean;
  /** The same, as of now (after an awaited flush, before React has re-rendered). */
  hasDraftNow(): boolean;
}

/**
 * `workspace` says where the autosave goes (main's draft, or a branch's copy) and whether there is a
 * draft to publish or discard there; null until the pipeline is read.
 */
export function useDraft(ready: boolean, initiallyDrafted: boolean, workspace: Workspace | null): Draft {
  const where = useRef(workspace);
  where.current = workspace;
  const [hasDraft, setHasDraftState] = useState(initiallyDrafted);
  const drafted = useRef(initiallyDrafted);
  const setHasDraft = (value: boolean) => {
    drafted.current = value;
    setHasDraftState(value);
  };
  const [state, setState] = useState<DraftState>(initiallyDrafted ? 'saved' : 'published');
  const [error, setError] = useState<string | null>(null);
  // The last save failed because something is down: the edits are kept and saved when it is back.
  const [outage, setOutage] = useState(false);
  const pending = useRef<Promise<boolean> | null>(null);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    setHasDraft(initiallyDrafted);
    setState(initiallyDrafted ? 'saved' : 'published');
  }, [initiallyDrafted]);

  const save = useCallback(async (): Promise<boolean> => {
    window.clearTimeout(timer.current);
    // One save at a time: a save asked for while one is in flight follows it.
    if (pending.current) await pending.current;
    const s = editorStore.getState();
    if (!s.dirty) return true;
    const doc = s.document();
    setState('saving');
    const attempt = (async () => {
      try {
        await Api.saveWork(where.current!, doc);
        editorStore.getState().markSaved(doc, editorStore.getState().version ?? 0);
        setHasDraft(true);
        setError(null);
        setOutage(false);
        setState('saved');
        return true;
      } catch (e) {
        setError(messageOf(e));
        setOutage(isOutage(e));
        setState('error');
        return false;
      }
    })();
    pending.current = attempt;
    try {
      return await attempt;
    } finally {
      pending.current = null;
    }
  }, []);

  useEffect(() => {
    if (!ready) return;
    const unsubscribe = editorStore.subscribe((s, prev) => {
      if (s.dirty && (s.nodes !== prev.nodes || s.edges !== prev.edges || s.meta !== prev.meta)) {
        window.clearTimeout(timer.current);
        // A drag is saved when it ends, not at every step of it.
        if (s.dragStart) return;
        timer.current = window.setTimeout(() => void save(), AUTOSAVE_MS);
      }
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer.current);
    };
  }, [ready, save]);

  const publish = useCallback(
    async (message?: string) => {
      if (!where.current?.publish) {
        setError(`Nothing to publish here: ${where.current?.says.merge ?? 'this workspace has no drafts'}`);
        return null;
      }
      if (!(await save())) return null;
      try {
        const published = await Api.publish(
          editorStore.getState().document().id,
          editorStore.getState().version,
          message,
        );
        editorStore.getState().markSaved(editorStore.getState().document(), published.version);
        setHasDraft(false);
        setState('published');
        setError(null);
        return { version: published.version };
      } catch (e) {
        setError(
          e instanceof ApiError && e.status === 409
            ? `Someone published a newer version while you were editing: ${messageOf(e)}`
            : `Could not publish: ${messageOf(e)}`,
        );
        return null;
      }
    },
    [save],
  );

  const discard = useCallback(async () => {
    window.clearTimeout(timer.current);
    try {
      await Api.discardDraft(where.current!, editorStore.getState().document().id);
    } catch (e) {
      // Nothing to discard is what was asked for.
      if (!(e instanceof ApiError && e.status === 404)) {
        setError(`Could not discard the draft: ${messageOf(e)}`);
        return false;
      }
    }
    setHasDraft(false);
    setState('published');
    setError(null);
    return true;
  }, []);

  // When what was down is back, the edits kept in the page are saved.
  useEffect(
    () =>
      useOutage.subscribe((now, before) => {
        if (before.down.length > 0 && now.down.length === 0 && editorStore.getState().dirty) void save();
      }),
    [save],
  );

  return {
    state,
    error,
    outage,
    flush: save,
    publish,
    discard,
    hasDraft,
    hasDraftNow: () => drafted.current,
  };
}
