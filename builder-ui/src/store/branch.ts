// The development branch the builder works in (chosen in the header), kept across reloads. A
// branch belongs to one project; pipelines of other projects stay on main.
import { create } from 'zustand';

export interface CurrentBranch {
  project: string;
  name: string;
}

const KEY = 'tributary.branch';

function stored(): CurrentBranch | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null') as CurrentBranch | null;
    return value && typeof value.project === 'string' && typeof value.name === 'string' ? value : null;
  } catch {
    return null;
  }
}

interface BranchState {
  current: CurrentBranch | null;
  /** null: main. */
  switchTo(branch: CurrentBranch | null): void;
}

export const useBranch = create<BranchState>()((set) => ({
  current: stored(),
  switchTo(branch) {
    if (branch) localStorage.setItem(KEY, JSON.stringify(branch));
    else localStorage.removeItem(KEY);
    set({ current: branch });
  },
}));

export const currentBranch = (): CurrentBranch | null => useBranch.getState().current;
