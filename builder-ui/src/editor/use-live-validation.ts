// Validates the document on every change, debounced; a newer change aborts the request in flight.
// The problems go to the editor store, where the canvas and the problems list read them.
import { useEffect } from 'react';
import { Api, messageOf } from '../api/client.ts';
import { documentNodesChanged, editorStore, endedStepsKey } from '../store/editor.ts';

const VALIDATE_DEBOUNCE_MS = 400;

/** Starts once the pipeline is loaded (`ready`). */
export function useLiveValidation(ready: boolean): void {
  useEffect(() => {
    if (!ready) return;
    let timer: number | undefined;
    let controller: AbortController | undefined;
    let last = '';
    const check = () => {
      const doc = editorStore.getState().document();
      // A step that ended may have kept the columns a check needs ("did you mean `amount`?").
      const json = JSON.stringify(doc) + endedStepsKey(editorStore.getState());
      if (json === last) return;
      last = json;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        controller?.abort();
        controller = new AbortController();
        editorStore.getState().setValidating(true);
        Api.validate(doc, controller.signal)
          .then((v) => editorStore.getState().setProblems(v.errors, doc))
          .catch((e: unknown) => {
            if ((e as Error).name !== 'AbortError')
              editorStore
                .getState()
                .setProblems([{ code: 'validate_failed', message: `Could not validate: ${messageOf(e)}` }]);
          })
          .finally(() => editorStore.getState().setValidating(false));
      }, VALIDATE_DEBOUNCE_MS);
    };
    check();
    const unsubscribe = editorStore.subscribe((s, prev) => {
      if (
        documentNodesChanged(s.nodes, prev.nodes) ||
        s.edges !== prev.edges ||
        s.meta !== prev.meta ||
        s.runSteps !== prev.runSteps
      )
        check();
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer);
      controller?.abort();
    };
  }, [ready]);
}
