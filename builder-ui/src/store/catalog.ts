// The node-type catalogue (GET /api/connectors), loaded once per session and shared by screens.
import { create } from 'zustand';
import { Api, messageOf } from '../api/client.ts';
import type { Connector } from '../api/types.ts';
import type { KindOf } from '../model/flow.ts';

interface CatalogState {
  connectors: Connector[] | null;
  byType: Map<string, Connector>;
  error: string | null;
  load(force?: boolean): Promise<void>;
}

let loading: Promise<void> | null = null;

/** A node type's kind as the catalogue declares it; a type it does not know is drawn as a transform. */
export const catalogKind: KindOf = (type) => useCatalog.getState().byType.get(type)?.kind ?? 'transform';

export const useCatalog = create<CatalogState>()((set, get) => ({
  connectors: null,
  byType: new Map(),
  error: null,
  load(force = false) {
    if (get().connectors && !force) return Promise.resolve();
    loading ??= Api.connectors()
      .then(({ items }) => {
        const connectors = items as Connector[];
        set({ connectors, byType: new Map(connectors.map((c) => [c.type, c])), error: null });
      })
      .catch((error: unknown) => set({ error: messageOf(error) }))
      .finally(() => (loading = null));
    return loading;
  },
}));
