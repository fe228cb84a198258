// The banner that says what is down (Temporal, Postgres, or the API itself) and that edits are
// kept; it asks GET /api/health every few seconds while something is down and goes when all is back.
import { useEffect } from 'react';
import { outageText, useOutage } from '../store/outage.ts';

const POLL_MS = 2_000;

export function OutageBanner() {
  const down = useOutage((s) => s.down);
  const fromHealth = useOutage((s) => s.fromHealth);
  const anything = down.length > 0;

  useEffect(() => {
    if (!anything) return;
    let stopped = false;
    const check = async () => {
      try {
        // Health answers 503 with the same body when a part is down: read it either way.
        const response = await fetch('/api/health');
        const body = (await response.json()) as { temporal?: string; postgres?: string };
        if (!stopped) fromHealth(body);
      } catch {
        if (!stopped) fromHealth(null);
      }
    };
    const timer = window.setInterval(() => void check(), POLL_MS);
    void check();
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [anything, fromHealth]);

  if (!anything) return null;
  return (
    <div className="banner banner-outage" role="status" aria-live="polite" aria-label="Outage">
      <span>{outageText(down)}</span>
    </div>
  );
}
