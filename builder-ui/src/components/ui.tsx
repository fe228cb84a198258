// Small shared pieces: links, dialogs, loading/empty/error states, status badges, formatting.
import { useEffect, useRef, type ReactNode } from 'react';
import { linkHandler } from '../router.ts';

export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  'aria-label'?: string;
  title?: string;
}) {
  return (
    <a
      href={props.to}
      onClick={linkHandler(props.to)}
      className={props.className}
      aria-label={props['aria-label']}
      title={props.title}
    >
      {props.children}
    </a>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, onRetry }: { error: string; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{error}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

/** A modal dialog on <dialog>: focus is trapped, Escape closes it. */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  footer?: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog dialog-wide' : 'dialog'}
      aria-label={props.title}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <header className="dialog-header">
        <h2>{props.title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div className="dialog-body">{props.children}</div>
      {props.footer && <footer className="dialog-footer">{props.footer}</footer>}
    </dialog>
  );
}

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge status-${status}`} aria-label={label ?? `Status: ${status.replace(/_/g, ' ')}`}>
      {status.replace(/_/g, ' ')}
    </span>
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function timeAgo(iso: string | null | undefined): string {
  if (!iso) return '—';
  const diff = Date.now() - Date.parse(iso);
  if (Number.isNaN(diff)) return iso;
  if (diff < 45_000) return 'just now';
  if (diff < 3_600_000) return `${Math.round(diff / 60_000)} min ago`;
  if (diff < 86_400_000) return `${Math.round(diff / 3_600_000)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** Glyphs for the node-type icon names the API gives. */
const ICONS: Record<string, string> = {
  sparkles: '✦',
  'file-text': '▤',
  braces: '{}',
  globe: '◍',
  database: '⛁',
  code: '</>',
  send: '➤',
  'shield-check': '✔',
};

export function NodeIcon({ name }: { name: string | undefined }) {
  return (
    <span className="node-icon" aria-hidden="true">
      {ICONS[name ?? ''] ?? '◆'}
    </span>
  );
}

/** The Temporal Web UI base: the user's override, the API's, or the dev server default. */
export function temporalUiBase(fromApi?: string): string {
  return (localStorage.getItem('tributary.temporalUi') || fromApi || 'http://localhost:8233').replace(
    /\/$/,
    '',
  );
}

/** A run in Temporal's UI: where and in which namespace GET /api/health says the server runs them. */
export function temporalRunUrl(runId: string, fromApi?: string, namespace = 'default'): string {
  return `${temporalUiBase(fromApi)}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(runId)}`;
}
