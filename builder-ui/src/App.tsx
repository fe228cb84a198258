// The application shell: sign-in gate, navigation, the routes, and the notice area.
import { Fragment, useEffect, useState } from 'react';
import { storedToken } from './api/client.ts';
import { BranchSwitcher } from './components/BranchSwitcher.tsx';
import { OutageBanner } from './components/OutageBanner.tsx';
import { Link } from './components/ui.tsx';
import { EditorScreen } from './editor/EditorScreen.tsx';
import { match, navigate, useLocation } from './router.ts';
import { AuditScreen } from './screens/AuditScreen.tsx';
import { BranchScreen } from './screens/BranchScreen.tsx';
import { CatalogScreen } from './screens/CatalogScreen.tsx';
import { LineageScreen } from './screens/LineageScreen.tsx';
import { ProductScreen } from './screens/ProductScreen.tsx';
import { PipelinesScreen } from './screens/PipelinesScreen.tsx';
import { RunDetailScreen } from './screens/RunDetailScreen.tsx';
import { RunsScreen } from './screens/RunsScreen.tsx';
import { SettingsScreen } from './screens/SettingsScreen.tsx';
import { SignIn } from './screens/SignIn.tsx';
import { TelemetryScreen } from './screens/TelemetryScreen.tsx';
import { TemplatesScreen } from './screens/TemplatesScreen.tsx';
import { useBranch } from './store/branch.ts';
import { useOutage } from './store/outage.ts';
import { useToasts } from './store/toasts.ts';

const NAV = [
  { to: '/pipelines', label: 'Pipelines', icon: '⇶' },
  { to: '/runs', label: 'Runs', icon: '▶' },
  { to: '/templates', label: 'Templates', icon: '❏' },
  { to: '/catalog', label: 'Catalog', icon: '▤' },
  { to: '/telemetry', label: 'Telemetry', icon: '∿' },
  { to: '/audit', label: 'Audit', icon: '✎' },
  { to: '/settings', label: 'Settings', icon: '⚙' },
];

export function App() {
  const [token, setToken] = useState(storedToken());
  const [reason, setReason] = useState<string | null>(null);
  const { path } = useLocation();
  const branch = useBranch((s) => s.current);
  const outage = useOutage((s) => s.down.length > 0);

  useEffect(() => {
    const onAuth = () => setToken(storedToken());
    const onUnauthorized = (e: Event) =>
      setReason(
        `Please sign in again: ${(e as CustomEvent<string | undefined>).detail ?? 'the token was not accepted'}`,
      );
    window.addEventListener('tributary:auth', onAuth);
    window.addEventListener('tributary:unauthorized', onUnauthorized);
    return () => {
      window.removeEventListener('tributary:auth', onAuth);
      window.removeEventListener('tributary:unauthorized', onUnauthorized);
    };
  }, []);

  useEffect(() => {
    if (path === '/' || path === '') navigate('/pipelines', { replace: true });
  }, [path]);

  if (!token) return <SignIn reason={reason} />;

  let screen;
  let params: Record<string, string> | null;
  const inEditor = !!match('/pipelines/:id', path);
  if ((params = match('/pipelines/:id', path))) screen = <EditorScreen id={params.id!} />;
  else if (match('/pipelines', path)) screen = <PipelinesScreen />;
  else if ((params = match('/runs/:runId', path))) screen = <RunDetailScreen runId={params.runId!} />;
  else if (match('/runs', path)) screen = <RunsScreen />;
  else if (match('/templates', path)) screen = <TemplatesScreen />;
  else if ((params = match('/catalog/:id', path))) screen = <ProductScreen id={params.id!} />;
  else if (match('/catalog', path)) screen = <CatalogScreen />;
  else if (match('/lineage', path)) screen = <LineageScreen />;
  else if (match('/telemetry', path)) screen = <TelemetryScreen />;
  else if (match('/audit', path)) screen = <AuditScreen />;
  else if (match('/settings', path)) screen = <SettingsScreen />;
  else if ((params = match('/branches/:project/:name', path)))
    screen = <BranchScreen project={params.project!} name={params.name!} />;
  else
    screen = (
      <main className="screen">
        <h1>Not found</h1>
        <p>
          Nothing lives at <code>{path}</code>. <Link to="/pipelines">Go to pipelines</Link>.
        </p>
      </main>
    );

  return (
    <div className={`app${inEditor ? ' app-editor' : ''}${outage ? ' has-outage' : ''}`}>
      <nav className="nav" aria-label="Main">
        <Link to="/pipelines" className="brand" aria-label="Tributary home">
          <span className="logo" aria-hidden="true">
            ≋
          </span>
          <span>Tributary</span>
        </Link>
        <BranchSwitcher />
        <ul>
          {NAV.map((item) => (
            <li key={item.to}>
              <a
                href={item.to}
                title={item.label}
                aria-current={path.startsWith(item.to) ? 'page' : undefined}
                onClick={(e) => {
                  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                  e.preventDefault();
                  navigate(item.to);
                }}
              >
                <span className="nav-icon" aria-hidden="true">
                  {item.icon}
                </span>
                <span className="nav-label">{item.label}</span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <OutageBanner />
      {/* A switch of branch shows every screen afresh, read in the new branch. */}
      <Fragment key={branch ? `${branch.project}/${branch.name}` : 'main'}>{screen}</Fragment>
      <Toasts />
    </div>
  );
}

function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <div className="toasts" role="status" aria-live="polite" aria-label="Notifications">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss notification"
            onClick={() => dismiss(t.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
