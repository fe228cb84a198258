// Who hears about runs and data products, and how: notification rules in a pipeline document and
// in a project's defaults. Channels name secrets, never hold their values. Pure zod, no I/O.
import { z } from 'zod';

export const NOTIFY_EVENTS = ['failure', 'success', 'overtime', 'retry', 'stale'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

const secretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'must be the name of a project secret');

export const WebhookChannelSchema = z
  .object({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    /** Signs each request as sink.webhook does (X-Tributary-Signature); the secret's value never leaves the worker. */
    signingSecret: secretName,
  })
  .strict();

export const SlackChannelSchema = z
  .object({
    type: z.literal('slack'),
    /** A secret whose value is the incoming-webhook URL (Slack's, or any service that takes its format). */
    webhookUrlSecret: secretName,
  })
  .strict();

export const EmailChannelSchema = z
  .object({
    type: z.literal('email'),
    /** A secret whose value is the SMTP server as a URL: smtp://user:password@host:587 or smtps://…:465. */
    smtpSecret: secretName,
    from: z.email(),
    to: z.array(z.email()).min(1).max(50),
  })
  .strict();

export const ChannelSchema = z.discriminatedUnion('type', [
  WebhookChannelSchema,
  SlackChannelSchema,
  EmailChannelSchema,
]);
export type Channel = z.infer<typeof ChannelSchema>;

export const NotificationRuleSchema = z
  .object({
    on: z.array(z.enum(NOTIFY_EVENTS)).min(1).max(NOTIFY_EVENTS.length),
    /** For "overtime": a run still running after this many minutes. */
    overtimeMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional(),
    channel: ChannelSchema,
  })
  .strict()
  .superRefine((rule, issues) => {
    if (rule.on.includes('overtime') && rule.overtimeMinutes === undefined) {
      issues.addIssue({
        code: 'custom',
        path: ['overtimeMinutes'],
        message: 'is required when the rule is "on" overtime',
      });
    }
  });
export type NotificationRule = z.infer<typeof NotificationRuleSchema>;

/** A pipeline's own rules; the project's defaults apply too unless `projectDefaults` is false. */
export const PipelineNotificationsSchema = z
  .object({
    projectDefaults: z.boolean().optional(),
    rules: z.array(NotificationRuleSchema).max(20).optional(),
  })
  .strict();
export type PipelineNotifications = z.infer<typeof PipelineNotificationsSchema>;

/** A project's defaults: the rules every pipeline of it gets (unless it opts out), and stale products. */
export const ProjectNotificationsSchema = z
  .object({
    rules: z.array(NotificationRuleSchema).max(20),
  })
  .strict();
export type ProjectNotifications = z.infer<typeof ProjectNotificationsSchema>;

/** The secret names a channel reads, each with its field. */
export function channelSecrets(channel: Channel): { field: string; name: string }[] {
  if (channel.type === 'webhook') return [{ field: 'signingSecret', name: channel.signingSecret }];
  if (channel.type === 'slack') return [{ field: 'webhookUrlSecret', name: channel.webhookUrlSecret }];
  return [{ field: 'smtpSecret', name: channel.smtpSecret }];
}

/** Each secret the rules name that the project does not have, with where it is named. */
export function missingSecrets(
  rules: NotificationRule[],
  known: readonly string[],
  at = 'rules',
): { path: string; message: string }[] {
  const have = new Set(known);
  return rules.flatMap((rule, i) =>
    channelSecrets(rule.channel)
      .filter((s) => !have.has(s.name))
      .map((s) => ({
        path: `${at}[${i}].channel.${s.field}`,
        message: `secret "${s.name}" does not exist in the project; add it under Settings → Secrets`,
      })),
  );
}
