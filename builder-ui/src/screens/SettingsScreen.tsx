// Settings: project secrets, API tokens, a pipeline's schedule and webhooks, and where "Open in
// Temporal" links go, one section each (in settings/).
import { storeToken } from '../api/client.ts';
import { useLocation } from '../router.ts';
import { PipelineTriggers } from './settings/PipelineTriggers.tsx';
import { NotificationsSection } from './settings/NotificationsSection.tsx';
import { SecretsSection } from './settings/SecretsSection.tsx';
import { TemporalSection } from './settings/TemporalSection.tsx';
import { TokensSection } from './settings/TokensSection.tsx';

export function SettingsScreen() {
  const { query } = useLocation();
  return (
    <main className="screen settings" aria-labelledby="settings-title">
      <header className="screen-header">
        <h1 id="settings-title">Settings</h1>
        <span className="spacer" />
        <button type="button" onClick={() => storeToken(null)}>
          Sign out
        </button>
      </header>
      <SecretsSection />
      <NotificationsSection />
      <PipelineTriggers initial={query.get('pipeline') ?? ''} />
      <TokensSection />
      <TemporalSection />
    </main>
  );
}
