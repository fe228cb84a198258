// The application shell. The editor, runs and template screens arrive with the Builder UI issue;
// until then the shell shows the platform's health so a new user sees that everything is up.
import { useEffect, useState } from 'react';

interface Health {
  status: string;
  temporal: string;
  postgres: string;
  version: string;
}

export function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch('/api/health')
      .then((r) => r.json() as Promise<Health>)
      .then(setHealth)
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 32 }}>
      <h1>Tributary</h1>
      {error && <p role="alert">Cannot reach the API: {error}</p>}
      {!health && !error && <p>Checking the platform…</p>}
      {health && (
        <dl aria-label="Platform health">
          <dt>Status</dt>
          <dd>{health.status}</dd>
          <dt>Temporal</dt>
          <dd>{health.temporal}</dd>
          <dt>Postgres</dt>
          <dd>{health.postgres}</dd>
          <dt>Version</dt>
          <dd>{health.version}</dd>
        </dl>
      )}
    </main>
  );
}
