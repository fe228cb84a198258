// A figure is one measured quantity beside the baseline measured in the same run, with the goal it
// is read against. Benchmarks return figures; run.ts prints them and writes them to JSON.

/** How a figure is judged: `ours / baseline` at most `ratio` (plus `slack` in the figure's unit), at
 * least `ratio` for throughputs, or an absolute bound when the goal is not relative. */
export type Goal =
  | { kind: 'at-most-ratio'; ratio: number; slack?: number }
  | { kind: 'at-least-ratio'; ratio: number }
  | { kind: 'at-most'; value: number }
  | { kind: 'at-least'; value: number }
  | { kind: 'none'; note: string };

export interface Figure {
  bench: string;
  name: string;
  unit: string;
  ours: number[];
  baselineName: string;
  /** Empty when the baseline is a constant or a reference rather than a measurement. */
  baseline: number[];
  goal: Goal;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarise(values: number[]): Summary | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** ours / baseline on the medians; null without a baseline. */
export function ratioOf(figure: Figure): number | null {
  const ours = summarise(figure.ours);
  const base = summarise(figure.baseline);
  return ours && base && base.median > 0 ? ours.median / base.median : null;
}

export function goalText(goal: Goal, unit: string): string {
  switch (goal.kind) {
    case 'at-most-ratio':
      return `≤ ${goal.ratio}x${goal.slack ? ` + ${goal.slack} ${unit}` : ''}`;
    case 'at-least-ratio':
      return `≥ ${goal.ratio}x`;
    case 'at-most':
      return `≤ ${goal.value} ${unit}`;
    case 'at-least':
      return `≥ ${goal.value} ${unit}`;
    case 'none':
      return goal.note;
  }
}

export function goalMet(figure: Figure): boolean | null {
  const ours = summarise(figure.ours);
  const base = summarise(figure.baseline);
  const { goal } = figure;
  if (!ours) return null;
  switch (goal.kind) {
    case 'at-most-ratio':
      return base ? ours.median <= base.median * goal.ratio + (goal.slack ?? 0) : null;
    case 'at-least-ratio':
      return base ? ours.median >= base.median * goal.ratio : null;
    case 'at-most':
      return ours.median <= goal.value;
    case 'at-least':
      return ours.median >= goal.value;
    case 'none':
      return null;
  }
}
