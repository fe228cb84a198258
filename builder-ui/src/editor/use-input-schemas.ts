// The output columns of the nodes around the selected one (POST …/schemas over the editor's current
// document): the SQL editor completes its inputs' columns, and the node's data view shows them.
// Asked for only while a node is selected, and again a moment after the document changes or a step
// of the run on screen ends (its kept output, of a draft run too, then tells the columns): working
// them out describes SQL in the warehouse, which is no cost to put on opening a large pipeline.
import { useEffect, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import type { NodeSchema } from '../api/types.ts';
import { documentNodesChanged, editorStore, endedStepsKey } from '../store/editor.ts';

const DEBOUNCE_MS = 700;

export interface InputSchemas {
  nodes: Record<string, NodeSchema> | null;
  error: string | null;
}

export function useNodeSchemas(enabled: boolean): InputSchemas {
  const [nodes, setNodes] = useState<Record<string, NodeSchema> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let timer: number | undefined;
    let controller: AbortController | undefined;
    let last = '';
    const fetchSoon = (delay: number) => {
      const doc = editorStore.getState().document();
      const json =
        JSON.stringify({ ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: undefined })) }) +
        endedStepsKey(editorStore.getState());
      if (json === last) return;
      last = json;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        controller?.abort();
        controller = new AbortController();
        Api.schemas(doc, controller.signal)
          .then((r) => {
            setNodes(r.nodes);
            setError(null);
          })
          .catch((e: unknown) => {
            if ((e as Error).name !== 'AbortError') setError(messageOf(e));
          });
      }, delay);
    };
    fetchSoon(0);
    const unsubscribe = editorStore.subscribe((s, prev) => {
      if (documentNodesChanged(s.nodes, prev.nodes) || s.edges !== prev.edges || s.runSteps !== prev.runSteps)
        fetchSoon(DEBOUNCE_MS);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer);
      controller?.abort();
    };
  }, [enabled]);
  return { nodes, error };
}
