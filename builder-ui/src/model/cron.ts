// A schedule's cron expression explained before it is saved: its meaning in words (cronstrue) and
// its next run times in the chosen time zone (croner). The server's own schedule spec also takes
// Temporal's `@every 15m`, which neither library reads, so that form is explained here.
import { Cron } from 'croner';
import cronstrue from 'cronstrue';

export interface CronExplained {
  /** "At 06:00 AM, Monday through Friday"; null when the expression is not understood. */
  meaning: string | null;
  /** The next run times as instants; empty when they cannot be computed here. */
  next: Date[];
  error: string | null;
}

const EVERY = /^@every\s+(\d+)\s*(s|m|h|d)$/i;
const UNIT = { s: 'second', m: 'minute', h: 'hour', d: 'day' } as const;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function explainCron(
  expression: string,
  timeZone: string,
  count = 5,
  from = new Date(),
): CronExplained {
  const text = expression.trim();
  if (!text) return { meaning: null, next: [], error: 'Enter a cron expression, e.g. 0 6 * * *' };
  const every = EVERY.exec(text);
  if (every) {
    const n = Number(every[1]);
    const unit = every[2]!.toLowerCase() as keyof typeof UNIT;
    const meaning = `Every ${n === 1 ? UNIT[unit] : `${n} ${UNIT[unit]}s`}`;
    // Temporal lays @every intervals from the Unix epoch, so the next runs are multiples of it.
    const step = n * UNIT_MS[unit];
    const first = Math.floor(from.getTime() / step) * step + step;
    return {
      meaning,
      next: Array.from({ length: count }, (_, i) => new Date(first + i * step)),
      error: null,
    };
  }
  if (!text.startsWith('@') && text.split(/\s+/).length !== 5)
    return {
      meaning: null,
      next: [],
      error: 'A cron expression has 5 fields: minute hour day month weekday',
    };
  let meaning: string;
  try {
    meaning = cronstrue.toString(text, { use24HourTimeFormat: true, verbose: false });
  } catch (e) {
    return { meaning: null, next: [], error: String(e).replace(/^Error:\s*/, '') };
  }
  try {
    const cron = new Cron(text, { timezone: timeZone, paused: true });
    return { meaning, next: cron.nextRuns(count, from), error: null };
  } catch (e) {
    return { meaning, next: [], error: (e as Error).message };
  }
}

/** A run time as the chosen zone's wall clock: "Mon 2 Dec, 06:00". */
export function formatInZone(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(date);
}

/** Every IANA zone the browser knows, UTC first. */
export function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}
