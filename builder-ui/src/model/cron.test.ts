import { describe, expect, it } from 'vitest';
import { explainCron, formatInZone, timeZones } from './cron.ts';

const from = new Date('2026-12-02T10:00:00Z');

describe('explainCron', () => {
  it('says a weekday schedule in words and gives its next runs in the chosen zone', () => {
    const r = explainCron('0 6 * * 1-5', 'Europe/Berlin', 3, from);
    expect(r.error).toBeNull();
    expect(r.meaning).toBe('At 06:00, Monday through Friday');
    // 06:00 in Berlin (UTC+1 in December) is 05:00 UTC; Wed 2 Dec at 10:00 UTC has passed it.
    expect(r.next.map((d) => d.toISOString())).toEqual([
      '2026-12-03T05:00:00.000Z',
      '2026-12-04T05:00:00.000Z',
      '2026-12-07T05:00:00.000Z',
    ]);
    expect(formatInZone(r.next[0]!, 'Europe/Berlin')).toContain('06:00');
  });

  it('reads the same expression differently in another zone', () => {
    const r = explainCron('0 6 * * *', 'America/New_York', 1, from);
    // 10:00 UTC is 05:00 in New York: its 06:00 is still to come today.
    expect(r.next[0]!.toISOString()).toBe('2026-12-02T11:00:00.000Z');
  });

  it("explains Temporal's @every form, which the cron libraries do not read", () => {
    const r = explainCron('@every 15m', 'UTC', 2, from);
    expect(r.meaning).toBe('Every 15 minutes');
    expect(r.next.map((d) => d.toISOString())).toEqual([
      '2026-12-02T10:15:00.000Z',
      '2026-12-02T10:30:00.000Z',
    ]);
  });

  it('names what is wrong with a bad expression', () => {
    expect(explainCron('0 6 * *', 'UTC').error).toMatch(/5 fields/);
    expect(explainCron('', 'UTC').error).toMatch(/Enter a cron expression/);
    const bad = explainCron('61 6 * * *', 'UTC');
    expect(bad.next).toEqual([]);
    expect(bad.error).toBeTruthy();
  });
});

it('lists time zones with UTC first', () => {
  const zones = timeZones();
  expect(zones[0]).toBe('UTC');
  expect(zones).toContain('Europe/Berlin');
});
