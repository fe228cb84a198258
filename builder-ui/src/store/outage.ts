// What is down, as the API said it (a 503 naming Temporal or Postgres, or no answer at all), kept
// until GET /api/health says it is back. The shell shows a banner from it; the editor keeps edits
// and saves the draft again when it clears.
import { create } from 'zustand';

export type Component = 'temporal' | 'postgres' | 'api';

interface OutageState {
  down: Component[];
  report(component: Component): void;
  /** What /api/health says now (null: the API itself did not answer). */
  fromHealth(health: { temporal?: string; postgres?: string } | null): void;
}

export const useOutage = create<OutageState>()((set, get) => ({
  down: [],
  report(component) {
    if (!get().down.includes(component)) set({ down: [...get().down, component].sort() });
  },
  fromHealth(health) {
    const down: Component[] = health
      ? (['postgres', 'temporal'] as const).filter((c) => (health[c] ?? 'ok') !== 'ok')
      : ['api'];
    const same = down.length === get().down.length && down.every((c) => get().down.includes(c));
    if (!same) set({ down });
  },
}));

const NAMES: Record<Component, string> = {
  temporal: 'Temporal',
  postgres: 'Postgres',
  api: 'The Tributary API',
};
const EFFECTS: Record<Component, string> = {
  temporal: 'runs cannot be started or followed until it is back',
  postgres: 'pipelines and drafts cannot be saved until it is back',
  api: 'nothing can be loaded or saved until it answers again',
};

/** One sentence per component down, and what is kept. */
export function outageText(down: readonly Component[]): string {
  const parts = down.map((c) => `${NAMES[c]} is not answering: ${EFFECTS[c]}.`);
  return `${parts.join(' ')} Your edits are kept in this page and saved when it is back.`;
}
