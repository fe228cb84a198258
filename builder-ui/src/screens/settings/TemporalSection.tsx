// Where "Open in Temporal" links go: the Temporal Web UI address, kept in this browser.
import { useId, useState } from 'react';
import { temporalUiBase } from '../../components/ui.tsx';
import { toast } from '../../store/toasts.ts';

export function TemporalSection() {
  const [url, setUrl] = useState(localStorage.getItem('tributary.temporalUi') ?? '');
  const id = useId();
  return (
    <section className="card" aria-labelledby="temporal-title">
      <h2 id="temporal-title">Temporal Web UI</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) localStorage.setItem('tributary.temporalUi', url.trim());
          else localStorage.removeItem('tributary.temporalUi');
          toast('success', `Run links go to ${temporalUiBase()}`);
        }}
      >
        <div className="field">
          <label htmlFor={id}>Temporal UI address</label>
          <input
            id={id}
            value={url}
            placeholder="http://localhost:8233"
            onChange={(e) => setUrl(e.target.value)}
          />
          <p className="field-help">Where “Open in Temporal” links point; empty for the local dev server.</p>
        </div>
        <button type="submit">Save address</button>
      </form>
    </section>
  );
}
