// The builder's questions to a Python connector before it runs: its spec (the node's form) and the
// streams discover lists (the stream picker). Each is a probe workflow on a worker (the API process
// has no environments, sandbox or secrets); this use case starts it, waits a little for it, and
// otherwise answers "running" with the environment build's progress, to be asked again by id.
// Specs are cached per package and version, which is all that decides them.
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { ConnectorSpec, DiscoveredStream, ProbeRequest, ProbeResult } from '@tributary/activities';
import type pg from 'pg';
import { InvalidError, NotFoundError } from '../errors.js';
import type { ConnectorCatalog } from '../pipelines/node-catalog.js';
import { cachedConnectorSpec, specCacheKey } from './connector-config-check.js';

/** The workflow type (engine/src/workflows/connector-probe.workflow.ts exports it by this name). */
export const CONNECTOR_PROBE_WORKFLOW = 'connectorProbe';

export type ProbeAnswer =
  | { status: 'ready'; probe: string; spec: ConnectorSpec }
  | { status: 'ready'; probe: string; streams: DiscoveredStream[] }
  | { status: 'running'; probe: string; progress: ProbeProgress | null };

export interface ProbeProgress {
  phase: string;
  message?: string;
  lines?: number;
}

export interface SpecQuestion {
  /** A node type whose declaration has a `probe`. */
  type: string;
  package: string;
  requirements?: string[];
  command?: string;
}

export interface DiscoverQuestion extends SpecQuestion {
  config?: Record<string, unknown>;
  secrets?: Record<string, string>;
  network?: boolean;
  files?: string;
}

const specId = (q: SpecQuestion) =>
  `connector-spec:${q.type}:${q.package.replace(/\s+/g, '').toLowerCase()}${q.command ? `:${q.command}` : ''}`;
const discoverPrefix = (project: string) => `connector-discover:${project}:`;

export class ConnectorProbes {
  constructor(
    private readonly temporal: Client,
    private readonly pool: pg.Pool,
    private readonly taskQueue: string,
    private readonly catalog: ConnectorCatalog,
  ) {}

  /** The spec from the cache, or the probe that reads it (one per package, shared by all callers). */
  async spec(project: string, question: SpecQuestion, waitMs: number): Promise<ProbeAnswer> {
    this.check(question);
    const cached = await this.cachedSpec(question);
    const probe = specId(question);
    if (cached) return { status: 'ready', probe, spec: cached };
    const handle = await this.start(probe, {
      type: question.type,
      action: 'spec',
      project,
      package: question.package,
      ...(question.command ? { command: question.command } : {}),
    });
    return this.answer(handle, question, waitMs);
  }

  /** Starts discover with the node's config (secret names only; their values stay on the worker). */
  async discover(project: string, question: DiscoverQuestion, waitMs: number): Promise<ProbeAnswer> {
    this.check(question);
    const probe = `${discoverPrefix(project)}${randomUUID()}`;
    const handle = await this.start(probe, {
      type: question.type,
      action: 'discover',
      project,
      package: question.package,
      ...(question.requirements ? { requirements: question.requirements } : {}),
      ...(question.command ? { command: question.command } : {}),
      config: question.config ?? {},
      secrets: question.secrets ?? {},
      network: question.network ?? false,
      ...(question.files ? { files: question.files } : {}),
    });
    return this.answer(handle, undefined, waitMs);
  }

  /** A probe asked again: a spec probe by anyone, a discover probe only by its own project. */
  async get(project: string, probe: string, waitMs: number): Promise<ProbeAnswer> {
    const spec = /^connector-spec:([a-z]+\.[a-z0-9_-]+):([^:]+)(?::(.+))?$/.exec(probe);
    if ((!spec || !this.catalog.get(spec[1]!)?.probe) && !probe.startsWith(discoverPrefix(project))) {
      throw new NotFoundError(`No connector probe "${probe}" in project ${project}`);
    }
    const question: SpecQuestion | undefined = spec
      ? { type: spec[1]!, package: spec[2]!, ...(spec[3] ? { command: spec[3] } : {}) }
      : undefined;
    if (question) {
      const cached = await this.cachedSpec(question);
      if (cached) return { status: 'ready', probe, spec: cached };
    }
    const handle = this.temporal.workflow.getHandle<(r: ProbeRequest) => Promise<ProbeResult>>(probe);
    try {
      await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        throw new NotFoundError(`No connector probe "${probe}" in project ${project}`);
      throw error;
    }
    return this.answer(handle, question, waitMs);
  }

  /** The type must declare a probe, and the package be written as that connector's are. */
  private check(question: SpecQuestion): void {
    const probe = this.catalog.get(question.type)?.probe;
    if (!probe) {
      const message = `${question.type} is not a connector whose spec can be asked (GET /api/connectors: those with "probe")`;
      throw new InvalidError(`type: ${message}`, [{ in: 'body', path: 'type', message }]);
    }
    if (!new RegExp(probe.packagePattern).test(question.package)) {
      const message = `${question.package} is not a ${question.type} package: ${probe.packageHint}`;
      throw new InvalidError(`package: ${message}`, [{ in: 'body', path: 'package', message }]);
    }
  }

  private async start(id: string, request: ProbeRequest) {
    try {
      return await this.temporal.workflow.start<(r: ProbeRequest) => Promise<ProbeResult>>(
        CONNECTOR_PROBE_WORKFLOW,
        { workflowId: id, taskQueue: this.taskQueue, args: [request] },
      );
    } catch (error) {
      // The same spec is being read already (another tab, another project): share that probe.
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        return this.temporal.workflow.getHandle<(r: ProbeRequest) => Promise<ProbeResult>>(id);
      throw error;
    }
  }

  /** Waits up to `waitMs` for the probe; its result, its failure as a 400, or its progress. */
  private async answer(
    handle: WorkflowHandle<(r: ProbeRequest) => Promise<ProbeResult>>,
    question: SpecQuestion | undefined,
    waitMs: number,
  ): Promise<ProbeAnswer> {
    const probe = handle.workflowId;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)),
    );
    let result: ProbeResult | 'timeout';
    try {
      result = await Promise.race([handle.result(), timeout]);
    } catch (error) {
      throw probeFailure(error);
    } finally {
      clearTimeout(timer);
    }
    if (result === 'timeout') return { status: 'running', probe, progress: await this.progress(handle) };
    if (result.action === 'spec') {
      if (question) await this.cache(question, result.spec);
      return { status: 'ready', probe, spec: result.spec };
    }
    return { status: 'ready', probe, streams: result.streams };
  }

  /** The probe activity's last heartbeat (the environment build's last line, or its phase). */
  private async progress(handle: WorkflowHandle): Promise<ProbeProgress | null> {
    const description = await handle.describe();
    const details = description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads;
    if (!details?.length) return description.raw.pendingActivities?.length ? { phase: 'starting' } : null;
    const converter = this.temporal.options.loadedDataConverter;
    let payloads = details as Payload[];
    for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    const value = converter.payloadConverter.fromPayload(payloads[0]!) as Record<string, unknown>;
    return {
      phase: typeof value.phase === 'string' ? value.phase : 'running',
      ...(typeof value.message === 'string' ? { message: value.message } : {}),
      ...(typeof value.lines === 'number' ? { lines: value.lines } : {}),
    };
  }

  private cachedSpec(question: SpecQuestion): Promise<ConnectorSpec | undefined> {
    return cachedConnectorSpec(this.pool, question);
  }

  private async cache(question: SpecQuestion, spec: ConnectorSpec): Promise<void> {
    await this.pool.query(
      `insert into tributary.connector_specs (type, package, spec) values ($1, $2, $3)
       on conflict (type, package) do nothing`,
      [question.type, specCacheKey(question), JSON.stringify(spec)],
    );
  }
}

/** A probe that failed: what the connector or the installer said, as a 400 naming the field. */
function probeFailure(error: unknown): Error {
  if (!(error instanceof WorkflowFailedError)) return error as Error;
  let cause: Error | undefined = error.cause;
  while (cause?.cause instanceof Error) cause = cause.cause;
  const message = cause?.message ?? error.message;
  // Step errors name their field as `config.<field>` (the node's config), whose fields the request
  // has at its top level (package, secrets, files, and the connector's own `config`).
  const at = /\bconfig\.([\w.-]+):/.exec(message)?.[1];
  const own = at && /^(package|requirements|secrets|files|command)\b/.exec(at);
  const field = !at || (own && (own[1] === 'package' || own[1] === 'requirements')) ? 'package' : at;
  return new InvalidError(message, [{ in: 'body', path: field, message }]);
}
