// What a notification says: what happened, where (pipeline, node, the first line of the error) and
// a link to the run in the builder. One message, rendered per channel.
import type { NotifyEvent } from '../model/notifications.schema.js';

export interface NotificationMessage {
  event: NotifyEvent | 'test';
  project: string;
  title: string;
  /** Plain-text lines, the first one a summary. */
  lines: string[];
  pipelineId: string | null;
  runId: string | null;
  nodeId: string | null;
  /** The first line of the error, when something failed. */
  error: string | null;
  productId: string | null;
  /** The run (or product) in the builder. */
  link: string | null;
  at: string;
}

export const firstLine = (text: string | null | undefined): string | null =>
  text ? (text.split('\n')[0] ?? '').slice(0, 500) : null;

export function runLink(publicUrl: string, runId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(runId)}`;
}

export function productLink(publicUrl: string, productId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/catalog/${encodeURIComponent(productId)}`;
}

/** The message as plain text (email body, Slack text). */
export function plainText(message: NotificationMessage): string {
  return [...message.lines, ...(message.link ? ['', `Open: ${message.link}`] : [])].join('\n');
}

/** The JSON body of a signed webhook: stable field names a receiver can rely on. */
export function webhookBody(message: NotificationMessage): Record<string, unknown> {
  return {
    type: 'tributary.notification',
    event: message.event,
    project: message.project,
    pipeline: message.pipelineId,
    run: message.runId,
    node: message.nodeId,
    product: message.productId,
    error: message.error,
    title: message.title,
    text: message.lines.join('\n'),
    link: message.link,
    at: message.at,
  };
}

/** Slack's incoming-webhook format: mrkdwn text with the link as <url|label>. */
export function slackBody(message: NotificationMessage): Record<string, unknown> {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const text = [
    `*${escape(message.title)}*`,
    ...message.lines.slice(1).map(escape),
    ...(message.link ? [`<${message.link}|Open in Tributary>`] : []),
  ].join('\n');
  return { text };
}
