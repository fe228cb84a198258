// A project's default notification rules: every pipeline of the project gets them (unless it opts
// out), and stale data products are reported through them.
import { useState } from 'react';
import { Api, messageOf } from '../../api/client.ts';
import { useResource } from '../../api/use-resource.ts';
import { NotificationRules } from '../../components/NotificationRules.tsx';
import { ErrorBox, Loading } from '../../components/ui.tsx';
import type { NotificationRuleDoc } from '../../model/types.ts';
import { toast } from '../../store/toasts.ts';

export function NotificationsSection() {
  const [project, setProject] = useState('default');
  const projects = useResource(() => Api.projects().then((r) => r.items), []).data ?? [];
  const { data, error, reload } = useResource(
    () => Api.projectNotifications(project).then((r) => r.rules),
    [project],
  );
  const [draft, setDraft] = useState<NotificationRuleDoc[] | null>(null);
  const save = async () => {
    try {
      await Api.putProjectNotifications(project, { rules: draft ?? data ?? [] });
      toast('success', `Notifications of ${project} saved`);
      setDraft(null);
      reload();
    } catch (e) {
      toast('error', messageOf(e));
    }
  };
  return (
    <section className="card" aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      <p className="muted small">
        The project&apos;s defaults: every pipeline gets these besides its own rules (Pipeline settings →
        Notifications), unless it turns them off. Stale data products are reported here.
      </p>
      <div className="field">
        <label htmlFor="notifications-project">Notifications of project</label>
        <select
          id="notifications-project"
          value={project}
          onChange={(e) => {
            setProject(e.target.value);
            setDraft(null);
          }}
        >
          {[...new Set(['default', ...projects.map((p) => p.id)])].map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </div>
      {error ? (
        <ErrorBox error={error} onRetry={reload} />
      ) : !data ? (
        <Loading what="the notification rules" />
      ) : (
        <>
          <NotificationRules key={project} project={project} rules={data} onChange={setDraft} />
          <button type="button" className="primary" disabled={!draft} onClick={() => void save()}>
            Save notifications
          </button>
        </>
      )}
    </section>
  );
}
