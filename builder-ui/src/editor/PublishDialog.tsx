// Publish asks what changed, in a few words, as n8n's versions do: the note is kept with the version
// and History shows it beside it.
import { useId, useState } from 'react';
import { Dialog } from '../components/ui.tsx';

export function PublishDialog(props: {
  /** The version publishing makes. */
  next: number;
  onClose: () => void;
  onPublish: (message: string) => Promise<void>;
}) {
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();
  const publish = async () => {
    setBusy(true);
    try {
      await props.onPublish(message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Publish version ${props.next}`}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy} onClick={() => void publish()}>
            {busy ? 'Publishing…' : `Publish v${props.next}`}
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void publish();
        }}
      >
        <div className="field">
          <label htmlFor={id}>What changed?</label>
          <input
            id={id}
            autoFocus
            maxLength={500}
            placeholder="e.g. totals per region, not per country"
            value={message}
            onChange={(e) => setMessage(e.target.value)}
          />
          <p className="field-help">
            A few words for History. Schedules, webhooks and API runs use the new version from then on.
          </p>
        </div>
      </form>
    </Dialog>
  );
}
