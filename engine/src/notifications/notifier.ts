// Turns what happens to runs and data products into outbox entries, one per event and channel: a
// run that closed (failure, success), a step attempt that will be retried, a run still running past
// a rule's minutes (overtime), a product past its freshness promise (stale). The rules are the
// pipeline document's own plus its project's defaults. Nothing here sends; the dispatcher does.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { AttemptFailure } from '@tributary/activities';
import type pg from 'pg';
import { canonicalJson, sha256 } from '../compiler/canonical.js';
import type { Logger } from '../infra/logger.js';
import {
  ProjectNotificationsSchema,
  type Channel,
  type NotificationRule,
  type NotifyEvent,
} from '../model/notifications.schema.js';
import type { RunProgress } from '../model/plan.js';
import { INTERPRETER_WORKFLOW, progressQuery } from '../model/run-contract.js';
import { SA_PIPELINE, SA_PIPELINE_VERSION, SA_PROJECT } from '../model/search-attributes.js';
import { PipelineStore } from '../store/pipelines.store.js';
import { firstLine, productLink, runLink, type NotificationMessage } from './message.js';
import { OutboxStore, type OutboxEntry } from './outbox.store.js';

export interface NotifierDeps {
  /** The platform database (rules, the outbox). */
  pool: pg.Pool;
  temporal: Client;
  /** Where the builder is, for links to runs (TRIBUTARY_PUBLIC_URL). */
  publicUrl: string;
  log: Logger;
  /** Tries per delivery before it is recorded as failed (default 8). */
  maxAttempts?: number;
  /** How long a rule's "minute" is (tests shorten it; 60 000 otherwise). */
  minuteMs?: number;
}

/** Identifies a channel by what it is, so two rules naming one channel deliver once. */
export const channelKey = (channel: Channel): string => sha256(canonicalJson(channel)).slice(0, 16);

export class Notifier {
  readonly outbox: OutboxStore;
  private readonly pipelines: PipelineStore;
  private readonly maxAttempts: number;

  constructor(private readonly deps: NotifierDeps) {
    this.outbox = new OutboxStore(deps.pool);
    this.pipelines = new PipelineStore(deps.pool);
    this.maxAttempts = deps.maxAttempts ?? 8;
  }

  /** The project's default rules. */
  async projectRules(project: string): Promise<NotificationRule[]> {
    const { rows } = await this.deps.pool.query<{ rules: unknown }>(
      'select rules from tributary.project_notifications where project_id = $1',
      [project],
    );
    const parsed = ProjectNotificationsSchema.safeParse({ rules: rows[0]?.rules ?? [] });
    return parsed.success ? parsed.data.rules : [];
  }

  /** A pipeline's rules (of the version that ran, else its current one) plus its project's defaults. */
  async rulesFor(
    project: string,
    pipelineId: string | null,
    version: number | null,
  ): Promise<NotificationRule[]> {
    let own: NotificationRule[] = [];
    let defaults = true;
    if (pipelineId) {
      const document =
        version && version > 0
          ? (await this.pipelines.version(pipelineId, version))?.document
          : (await this.pipelines.get(pipelineId))?.current.document;
      // Rules belong to the pipeline of this project only: a same-named pipeline elsewhere is not it.
      if (document && document.project === project) {
        own = document.notifications?.rules ?? [];
        defaults = document.notifications?.projectDefaults !== false;
      }
    }
    return [...own, ...(defaults ? await this.projectRules(project) : [])];
  }

  private entries(
    rules: NotificationRule[],
    event: NotifyEvent,
    key: string,
    message: NotificationMessage,
    where: Pick<OutboxEntry, 'projectId' | 'pipelineId' | 'runId' | 'productId'>,
    keep: (rule: NotificationRule) => boolean = () => true,
  ): OutboxEntry[] {
    const seen = new Set<string>();
    return rules
      .filter((rule) => rule.on.includes(event) && keep(rule))
      .flatMap((rule) => {
        const channel = channelKey(rule.channel);
        if (seen.has(channel)) return [];
        seen.add(channel);
        return [
          {
            ...where,
            event,
            dedupeKey: `${key}:${channel}`,
            channel: rule.channel,
            message,
            maxAttempts: this.maxAttempts,
          },
        ];
      });
  }

  /**
   * A run closed: its failure or success, for the channels that asked. Reads the run's progress (a
   * query) and its project and version (search attributes) from Temporal, so the interpreter hands
   * nothing new to its finishing activity.
   */
  async runClosed(runId: string): Promise<number> {
    const handle = this.deps.temporal.workflow.getHandle(runId);
    const [description, progress] = await Promise.all([
      handle.describe(),
      handle.query(progressQuery) as Promise<RunProgress>,
    ]);
    const attributes = description.typedSearchAttributes;
    const project = attributes.get(SA_PROJECT) ?? 'default';
    const pipelineId = attributes.get(SA_PIPELINE) ?? null;
    const version = Number(attributes.get(SA_PIPELINE_VERSION) ?? '') || null;
    const event: NotifyEvent | null =
      progress.status === 'failed'
        ? 'failure'
        : progress.status === 'succeeded' || progress.status === 'succeeded_with_warnings'
          ? 'success'
          : null;
    if (!event) return 0;
    const rules = await this.rulesFor(project, pipelineId, version);
    if (!rules.some((r) => r.on.includes(event))) return 0;
    const failed = Object.entries(progress.steps).filter(([, s]) => s.status === 'failed');
    const [node, step] = failed[0] ?? [null, null];
    const error = firstLine(step?.error);
    const name = `pipeline "${pipelineId}"`;
    const lines =
      event === 'failure'
        ? [
            `Run ${runId} of ${name} (project ${project}) failed at step "${node}".`,
            `Step "${node}": ${error ?? 'no error message'}`,
            ...(failed.length > 1
              ? [
                  `Also failed: ${failed
                    .slice(1)
                    .map(([id]) => `"${id}"`)
                    .join(', ')}`,
                ]
              : []),
          ]
        : [
            `Run ${runId} of ${name} (project ${project}) ${progress.status === 'succeeded' ? 'succeeded' : 'succeeded with warnings'}.`,
            `${Object.values(progress.steps).filter((s) => s.status === 'succeeded').length} steps succeeded.`,
          ];
    const message: NotificationMessage = {
      event,
      project,
      title:
        event === 'failure'
          ? `Pipeline ${pipelineId} failed at step ${node}`
          : `Pipeline ${pipelineId} succeeded`,
      lines,
      pipelineId,
      runId,
      nodeId: node,
      error,
      productId: null,
      link: runLink(this.deps.publicUrl, runId),
      at: progress.endedAt ?? new Date().toISOString(),
    };
    return this.outbox.enqueue(
      this.entries(rules, event, `${runId}:${event}`, message, {
        projectId: project,
        pipelineId,
        runId,
        productId: null,
      }),
    );
  }

  /** A step attempt failed and Temporal will try again. */
  async attemptFailed(failure: AttemptFailure): Promise<number> {
    const rules = await this.rulesFor(failure.project, failure.pipelineId, null);
    if (!rules.some((r) => r.on.includes('retry'))) return 0;
    const error = firstLine(failure.error);
    const of = failure.maxAttempts ? ` of ${failure.maxAttempts}` : '';
    const message: NotificationMessage = {
      event: 'retry',
      project: failure.project,
      title: `Pipeline ${failure.pipelineId}: step ${failure.nodeId} is retried`,
      lines: [
        `Step "${failure.nodeId}" (${failure.type}) of pipeline "${failure.pipelineId}" failed on attempt ${failure.attempt}${of} and will be tried again.`,
        `Error: ${error ?? 'no error message'}`,
      ],
      pipelineId: failure.pipelineId,
      runId: failure.runId,
      nodeId: failure.nodeId,
      error,
      productId: null,
      link: runLink(this.deps.publicUrl, failure.runId),
      at: new Date().toISOString(),
    };
    return this.outbox.enqueue(
      this.entries(rules, 'retry', `${failure.runId}:retry:${failure.nodeId}:${failure.attempt}`, message, {
        projectId: failure.project,
        pipelineId: failure.pipelineId,
        runId: failure.runId,
        productId: null,
      }),
    );
  }

  /** Runs still running past a rule's minutes: each rule's channels hear once per run. */
  async checkOvertime(now = Date.now()): Promise<number> {
    const minute = this.deps.minuteMs ?? 60_000;
    let added = 0;
    const query = `WorkflowType = '${INTERPRETER_WORKFLOW}' AND ExecutionStatus = 'Running'`;
    for await (const run of this.deps.temporal.workflow.list({ query })) {
      const attributes = run.typedSearchAttributes;
      const project = attributes.get(SA_PROJECT);
      if (!project) continue;
      const pipelineId = attributes.get(SA_PIPELINE) ?? null;
      const version = Number(attributes.get(SA_PIPELINE_VERSION) ?? '') || null;
      const elapsed = now - run.startTime.getTime();
      const rules = (await this.rulesFor(project, pipelineId, version)).filter(
        (r) =>
          r.on.includes('overtime') &&
          r.overtimeMinutes !== undefined &&
          elapsed >= r.overtimeMinutes * minute,
      );
      if (rules.length === 0) continue;
      for (const rule of rules) {
        const minutes = rule.overtimeMinutes!;
        const message: NotificationMessage = {
          event: 'overtime',
          project,
          title: `Pipeline ${pipelineId} is still running after ${minutes} min`,
          lines: [
            `Run ${run.workflowId} of pipeline "${pipelineId}" (project ${project}) started at ${run.startTime.toISOString()} and is still running after ${minutes} minute${minutes === 1 ? '' : 's'}.`,
          ],
          pipelineId,
          runId: run.workflowId,
          nodeId: null,
          error: null,
          productId: null,
          link: runLink(this.deps.publicUrl, run.workflowId),
          at: new Date(now).toISOString(),
        };
        added += await this.outbox.enqueue(
          this.entries([rule], 'overtime', `${run.workflowId}:overtime:${minutes}`, message, {
            projectId: project,
            pipelineId,
            runId: run.workflowId,
            productId: null,
          }),
        );
      }
    }
    return added;
  }

  /**
   * Data products past their freshness promise: the project's defaults and the rules of the pipeline
   * that last published the product hear once per stale spell (a new publish starts a new one).
   */
  async checkStale(
    products: {
      id: string;
      name: string;
      project: string;
      lastPublishedAt: string | null;
      lastPipelineId: string | null;
      maxAgeHours: number;
    }[],
  ): Promise<number> {
    let added = 0;
    for (const product of products) {
      const rules = await this.rulesFor(product.project, product.lastPipelineId, null);
      const since = product.lastPublishedAt ? `last published ${product.lastPublishedAt}` : 'never published';
      const message: NotificationMessage = {
        event: 'stale',
        project: product.project,
        title: `Data product ${product.id} is stale`,
        lines: [
          `Data product "${product.name}" (${product.id}, project ${product.project}) promises data at most ${product.maxAgeHours} h old, and was ${since}.`,
        ],
        pipelineId: product.lastPipelineId,
        runId: null,
        nodeId: null,
        error: null,
        productId: product.id,
        link: productLink(this.deps.publicUrl, product.id),
        at: new Date().toISOString(),
      };
      added += await this.outbox.enqueue(
        this.entries(rules, 'stale', `stale:${product.id}:${product.lastPublishedAt ?? 'never'}`, message, {
          projectId: product.project,
          pipelineId: product.lastPipelineId,
          runId: null,
          productId: product.id,
        }),
      );
    }
    return added;
  }

  /** "Send a test message": one delivery to a channel, through the outbox like any other. */
  async sendTest(
    project: string,
    channel: Channel,
    actor: string,
    pipelineId: string | null = null,
  ): Promise<number> {
    const id = randomUUID();
    const message: NotificationMessage = {
      event: 'test',
      project,
      title: `Test message from Tributary`,
      lines: [
        `A test message for ${pipelineId ? `pipeline "${pipelineId}"` : `project ${project}`}, sent by ${actor}.`,
        'If you can read this, the channel works.',
      ],
      pipelineId,
      runId: null,
      nodeId: null,
      error: null,
      productId: null,
      link: null,
      at: new Date().toISOString(),
    };
    await this.outbox.enqueue([
      {
        projectId: project,
        pipelineId,
        runId: null,
        productId: null,
        event: 'test',
        dedupeKey: `test:${id}`,
        channel,
        message,
        maxAttempts: 1,
      },
    ]);
    const { rows } = await this.deps.pool.query<{ id: string }>(
      'select id from tributary.notification_outbox where dedupe_key = $1',
      [`test:${id}`],
    );
    return Number(rows[0]!.id);
  }
}
