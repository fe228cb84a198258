// The sign-in screen: the user pastes an API token once; it is kept in this browser's storage.
import { useId, useState } from 'react';
import { Api, messageOf, storeToken } from '../api/client.ts';

export function SignIn(props: { reason: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async () => {
    setBusy(true);
    setError(null);
    localStorage.setItem('tributary.token', token.trim());
    try {
      await Api.projects();
      storeToken(token.trim());
    } catch (e) {
      localStorage.removeItem('tributary.token');
      setError(`That token was not accepted: ${messageOf(e)}`);
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form
        className="card sign-in-card"
        aria-label="Sign in"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h1>
          <span className="logo" aria-hidden="true">
            ≋
          </span>{' '}
          Tributary
        </h1>
        <p>Sign in with an API token.</p>
        {props.reason && !error && (
          <p className="state-error" role="alert">
            {props.reason}
          </p>
        )}
        <div className="field">
          <label htmlFor={id}>API token</label>
          <input
            id={id}
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="trb_…"
          />
          <p className="field-help">
            <code>npm start</code> prints the admin token at its first start and writes it to{' '}
            <code>$TRIBUTARY_HOME/admin-token</code> (<code>.tributary/admin-token</code>).
          </p>
        </div>
        {error && (
          <p className="state-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
