// Notification rules as JSON (the document's own shape, so what is typed is what is saved), checked
// as it is typed, with "Send a test message" for each rule's channel: it queues one delivery and
// shows how it went. Pipeline settings and project settings both use it.
import { useId, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import type { NotificationRuleDoc } from '../model/types.ts';

const EXAMPLE = `[
  { "on": ["failure"], "channel": { "type": "webhook", "url": "https://hooks.example.com/tributary", "signingSecret": "alert-key" } }
]`;

/** Parses the text as a list of rules; the API checks them fully when they are saved. */
export function parseRules(text: string): { rules: NotificationRuleDoc[] } | { error: string } {
  if (!text.trim()) return { rules: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not JSON: ${(e as Error).message}` };
  }
  if (!Array.isArray(value))
    return { error: 'The rules are a JSON list: [ { "on": [...], "channel": {...} } ]' };
  for (const [i, rule] of value.entries()) {
    const r = rule as { on?: unknown; channel?: { type?: unknown } } | null;
    if (!r || !Array.isArray(r.on) || typeof r.channel?.type !== 'string')
      return { error: `Rule ${i + 1} needs "on" (a list of events) and a "channel" with a "type"` };
  }
  return { rules: value as NotificationRuleDoc[] };
}

export function NotificationRules(props: {
  project: string;
  pipelineId?: string;
  rules: NotificationRuleDoc[];
  onChange: (rules: NotificationRuleDoc[]) => void;
}) {
  const id = useId();
  const [text, setText] = useState(() => (props.rules.length ? JSON.stringify(props.rules, null, 2) : ''));
  const parsed = parseRules(text);
  const [tests, setTests] = useState<Record<number, string>>({});

  const sendTest = async (index: number, rule: NotificationRuleDoc) => {
    setTests((t) => ({ ...t, [index]: 'queued…' }));
    try {
      const queued = await Api.sendTestNotification(props.project, {
        channel: rule.channel,
        ...(props.pipelineId ? { pipelineId: props.pipelineId } : {}),
      });
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const d = await Api.notificationDelivery(props.project, queued.id);
        if (d.status !== 'pending') {
          setTests((t) => ({ ...t, [index]: d.status === 'sent' ? 'sent' : `failed: ${d.lastError ?? ''}` }));
          return;
        }
      }
      setTests((t) => ({ ...t, [index]: 'still pending (is a worker running?)' }));
    } catch (e) {
      setTests((t) => ({ ...t, [index]: `refused: ${messageOf(e)}` }));
    }
  };

  return (
    <div className="notification-rules">
      <label htmlFor={id}>Rules (JSON)</label>
      <textarea
        id={id}
        className="mono"
        rows={8}
        placeholder={EXAMPLE}
        value={text}
        aria-invalid={'error' in parsed}
        onChange={(e) => {
          setText(e.target.value);
          const next = parseRules(e.target.value);
          if ('rules' in next) props.onChange(next.rules);
        }}
      />
      <p className="muted small">
        Events: failure, success, overtime (with overtimeMinutes), retry, stale. Channels: webhook (url,
        signingSecret), slack (webhookUrlSecret), email (smtpSecret, from, to). Channels name project secrets.
      </p>
      {'error' in parsed ? (
        <p className="error" role="alert">
          {parsed.error}
        </p>
      ) : (
        <ul className="rule-tests" aria-label="Channels">
          {parsed.rules.map((rule, i) => (
            <li key={i}>
              <span>
                {rule.on.join(', ')} → {rule.channel.type}
              </span>{' '}
              <button type="button" onClick={() => void sendTest(i, rule)}>
                Send a test message
              </button>{' '}
              {tests[i] && (
                <span role="status" aria-label={`Test of rule ${i + 1}`}>
                  {tests[i]}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
