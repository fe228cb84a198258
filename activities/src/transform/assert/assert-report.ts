// The report transform.assert fails a run with (or notes on a passing step): which assertions do
// not hold, how many rows violate each, and a few of those rows. Pure, so it is tested directly.

export interface AssertionOutcome {
  name: string;
  description?: string;
  severity: 'error' | 'warn';
  /** Rows the assertion's query returned: each one a violation. */
  violations: number;
  /** Up to `examples` violating rows, as JSON text. */
  examples: string[];
}

/** A quoted row is cut here, so one wide row cannot swamp the message. */
export const MAX_EXAMPLE_CHARS = 300;

const rows = (n: number) => `${n.toLocaleString('en')} violating row${n === 1 ? '' : 's'}`;

function clip(text: string): string {
  return text.length > MAX_EXAMPLE_CHARS ? `${text.slice(0, MAX_EXAMPLE_CHARS)}…` : text;
}

/** One line per assertion that does not hold: its name, why it exists, the count and examples. */
export function describeViolation(outcome: AssertionOutcome): string {
  const about = outcome.description ? ` (${outcome.description})` : '';
  const shown = outcome.examples.map(clip);
  const more = outcome.violations > shown.length ? `; first ${shown.length}` : '';
  const examples = shown.length > 0 ? `${more}: ${shown.join(', ')}` : '';
  return `${outcome.name}${about}: ${rows(outcome.violations)}${examples}`;
}

/** The failure message when error-level assertions do not hold; undefined when the gate passes. */
export function failureReport(outcomes: AssertionOutcome[]): string | undefined {
  const failed = outcomes.filter((o) => o.violations > 0 && o.severity === 'error');
  if (failed.length === 0) return undefined;
  const warned = outcomes.filter((o) => o.violations > 0 && o.severity === 'warn');
  const lines = [
    `data quality check failed: ${failed.length} of ${outcomes.length} assertion${outcomes.length === 1 ? '' : 's'} ` +
      'did not hold, so nothing after this step ran',
    ...failed.map((o) => `- ${describeViolation(o)}`),
    ...warned.map((o) => `- (warning) ${describeViolation(o)}`),
  ];
  return lines.join('\n');
}

/** Notes for a passing step: what held, and each warn-level assertion that did not. */
export function passNotes(outcomes: AssertionOutcome[]): string[] {
  const warned = outcomes.filter((o) => o.violations > 0);
  const held = outcomes.length - warned.length;
  return [
    `${held} of ${outcomes.length} assertion${outcomes.length === 1 ? '' : 's'} held`,
    ...warned.map((o) => `warning: ${describeViolation(o)}`),
  ];
}
