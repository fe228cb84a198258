// Sends one notification to one channel: a signed webhook (sink.webhook's signature scheme), a
// Slack-compatible incoming webhook, or email over SMTP. Every connection passes the egress check
// (HTTP through the fenced fetch; SMTP to an address the check allowed), and the secrets a channel
// names are resolved for the host they go to, so a secret bound to another host is refused.
import { lookup } from 'node:dns/promises';
import nodemailer from 'nodemailer';
import {
  addressRefusal,
  checkUrl,
  fencedFetch,
  signPayload,
  StepError,
  type EgressPolicy,
  type SecretResolver,
} from '@tributary/activities';
import type { Channel } from '../model/notifications.schema.js';
import { plainText, slackBody, webhookBody, type NotificationMessage } from './message.js';

export interface ChannelDeps {
  secrets: (project: string) => SecretResolver;
  egress: EgressPolicy;
  /** How long one delivery attempt may take. */
  timeoutMs?: number;
}

export type Send = (
  channel: Channel,
  message: NotificationMessage,
  key: string,
  project: string,
) => Promise<void>;

/** A failure retrying cannot fix (a refused secret or host, a 4xx): the delivery fails at once. */
export class PermanentDeliveryError extends Error {
  readonly permanent = true;
}

const permanentIfRefused = (error: unknown): never => {
  if (error instanceof StepError) throw new PermanentDeliveryError(error.message);
  throw error;
};

export function createSender(deps: ChannelDeps): Send {
  const fetch = fencedFetch(deps.egress);
  const timeoutMs = deps.timeoutMs ?? 10_000;

  const post = async (url: string, body: string, headers: Record<string, string>): Promise<void> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return permanentIfRefused(error);
    }
    const excerpt = (await response.text().catch(() => '')).slice(0, 200);
    if (response.ok) return;
    const shown = new URL(url);
    const what = `${shown.protocol}//${shown.host} answered ${response.status}${excerpt ? `: ${excerpt}` : ''}`;
    // 408, 429 and 5xx may pass; any other answer will not change by asking again.
    if (response.status === 408 || response.status === 429 || response.status >= 500) throw new Error(what);
    throw new PermanentDeliveryError(what);
  };

  return async (channel, message, key, project) => {
    const secrets = deps.secrets(project);
    switch (channel.type) {
      case 'webhook': {
        const secret = await secrets
          .resolve(channel.signingSecret, { sendTo: channel.url })
          .catch(permanentIfRefused);
        const body = JSON.stringify(webhookBody(message));
        const timestamp = Math.floor(Date.now() / 1000);
        return post(channel.url, body, {
          'x-tributary-event': message.event,
          'x-tributary-timestamp': String(timestamp),
          'x-tributary-signature': signPayload(secret, timestamp, body),
          'idempotency-key': key,
        });
      }
      case 'slack': {
        const url = await secrets
          .resolve(channel.webhookUrlSecret, { connectionUrl: true })
          .catch(permanentIfRefused);
        return post(url, JSON.stringify(slackBody(message)), {});
      }
      case 'email': {
        const value = await secrets
          .resolve(channel.smtpSecret, { connectionUrl: true })
          .catch(permanentIfRefused);
        return sendMail(deps.egress, value, channel, message, key, timeoutMs);
      }
    }
  };
}

/** The SMTP server from a secret's URL, its address checked by the egress check before connecting. */
async function sendMail(
  egress: EgressPolicy,
  smtpUrl: string,
  channel: Extract<Channel, { type: 'email' }>,
  message: NotificationMessage,
  key: string,
  timeoutMs: number,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new PermanentDeliveryError(
      `secret "${channel.smtpSecret}" is not a URL; write smtp://user:password@host:587`,
    );
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new PermanentDeliveryError(`secret "${channel.smtpSecret}" must be an smtp:// or smtps:// URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  // The one egress check: metadata names and literal addresses first, then each address the name has.
  try {
    checkUrl(egress, new URL(`http://${url.host}`));
  } catch (error) {
    throw new PermanentDeliveryError(
      `SMTP server ${host}: ${(error as Error).message.replace(/^.*refused: /, 'refused: ')}`,
    );
  }
  const addresses = await lookup(host, { all: true });
  for (const { address } of addresses) {
    const why = addressRefusal(egress, host, address);
    if (why) throw new PermanentDeliveryError(`SMTP server ${host} (${address}) refused: ${why}`);
  }
  const transport = nodemailer.createTransport({
    host: addresses[0]!.address,
    port,
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    // The certificate is checked against the name, not the address connected to.
    tls: { servername: host },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: message.title,
      text: plainText(message),
      messageId: `<${key.replace(/[^A-Za-z0-9._-]/g, '.')}@tributary>`,
      headers: { 'X-Tributary-Event': message.event },
    });
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    // 5xx SMTP replies (bad recipient, authentication) stay as they are; 4xx and network faults pass.
    if (code !== undefined && code >= 500)
      throw new PermanentDeliveryError(`SMTP ${host}: ${(error as Error).message}`, { cause: error });
    throw new Error(`SMTP ${host}: ${(error as Error).message}`, { cause: error });
  } finally {
    transport.close();
  }
}
