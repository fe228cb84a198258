// The settings of a Python connector node (source.airbyte, source.singer): the connector's own
// connection specification, read on a worker (the environment is built on first use; its progress
// shows meanwhile), rendered as the node's form. Fields the connector marks secret pick a project
// secret, which lands in `secrets` (never in `config`). Discover lists the streams with their
// columns; the checked ones, each with its sync mode, are the node's `streams`.
import { useEffect, useRef, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import type { JsonSchema } from '../model/types.ts';
import { SchemaForm, type FormContext } from './SchemaForm.tsx';

type Obj = Record<string, unknown>;
type SyncMode = 'full_refresh' | 'incremental';

interface Spec {
  schema: Obj | null;
  secretFields: string[];
  note?: string;
}
interface Stream {
  name: string;
  columns: { name: string; type: string }[];
  syncModes: SyncMode[];
  /** A Singer stream's replication keys to choose from (when its catalog lists several). */
  replicationKeys?: string[];
}
export interface PickedStream {
  name: string;
  syncMode?: SyncMode;
  cursorField?: string[];
  replicationKey?: string;
}
interface Answer {
  status: 'ready' | 'running';
  probe: string;
  spec?: Spec;
  streams?: Stream[];
  progress?: { phase: string; message?: string } | null;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** What a connector's catalogue entry says about probing it (GET /api/connectors `probe`). */
export interface ProbeFacts {
  packagePattern: string;
  packageExample: string;
  streams: 'many' | 'one';
}

function getPath(target: unknown, path: string): unknown {
  let node = target;
  for (const part of path.split('.')) {
    if (!isObj(node)) return undefined;
    node = node[part];
  }
  return node;
}
function setPath(target: Obj, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isObj(node[part])) node[part] = {};
    node = node[part] as Obj;
  }
  if (value === undefined) delete node[parts.at(-1)!];
  else node[parts.at(-1)!] = value;
}

/** Asks until the probe is ready, showing its progress; cancelled when the node changes. */
async function settle(
  project: string,
  first: Promise<Answer>,
  onProgress: (text: string) => void,
  cancelled: () => boolean,
): Promise<Answer | null> {
  let answer = await first;
  while (answer.status === 'running') {
    if (cancelled()) return null;
    const p = answer.progress;
    onProgress(
      p?.phase === 'environment'
        ? `Building the Python environment… ${p.message ?? ''}`
        : `Running ${p?.phase ?? 'the connector'}…`,
    );
    answer = (await Api.connectorProbe(project, answer.probe)) as Answer;
  }
  return cancelled() ? null : answer;
}

export function ConnectorForm(props: {
  type: string;
  probe: ProbeFacts;
  project: string;
  config: Obj;
  onChange: (config: Obj) => void;
  ctx: FormContext;
}) {
  const pkg = typeof props.config.package === 'string' ? props.config.package.trim() : '';
  const command = typeof props.config.command === 'string' ? props.config.command : undefined;
  const pinned = new RegExp(props.probe.packagePattern).test(pkg);
  const [spec, setSpec] = useState<Spec | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [streams, setStreams] = useState<Stream[] | null>(null);
  const [discovering, setDiscovering] = useState<string | null>(null);
  const [discoverError, setDiscoverError] = useState<string | null>(null);
  // The spec's and discover's answers each count only while nothing newer was asked of them: two
  // counters, so a discover started before the spec answered does not drop the spec.
  const generation = useRef(0);
  const discoverGeneration = useRef(0);

  useEffect(() => {
    setSpec(null);
    setError(null);
    setStreams(null);
    if (!pinned) return;
    const mine = ++generation.current;
    const cancelled = () => generation.current !== mine;
    setStatus('Reading the connector’s specification…');
    settle(
      props.project,
      Api.connectorSpec(props.project, {
        type: props.type,
        package: pkg,
        ...(command ? { command } : {}),
      }) as Promise<Answer>,
      setStatus,
      cancelled,
    )
      .then((answer) => {
        if (!answer) return;
        setSpec(answer.spec ?? null);
        setStatus(null);
      })
      .catch((e: unknown) => {
        if (cancelled()) return;
        setError(messageOf(e));
        setStatus(null);
      });
    return () => {
      generation.current++;
      discoverGeneration.current++;
    };
  }, [props.project, props.type, pkg, command, pinned]);

  const plain = isObj(props.config.config) ? props.config.config : {};
  const secrets = isObj(props.config.secrets) ? (props.config.secrets as Record<string, string>) : {};
  const secretFields = new Set(spec?.secretFields ?? []);
  // The form sees one value: the plain config with each secret field holding its secret's name.
  const merged = structuredClone(plain);
  for (const [field, name] of Object.entries(secrets)) setPath(merged, field, name);
  const picked: PickedStream[] = Array.isArray(props.config.streams)
    ? (props.config.streams as PickedStream[])
    : typeof props.config.stream === 'string'
      ? [
          {
            name: props.config.stream,
            ...(props.config.syncMode === 'incremental' ? { syncMode: 'incremental' as const } : {}),
          },
        ]
      : [];

  const update = (patch: Obj) => {
    const next = { ...props.config, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
    props.onChange(next);
  };

  const onForm = (value: Obj) => {
    const nextPlain = structuredClone(value);
    const nextSecrets: Record<string, string> = {};
    for (const field of secretFields) {
      const name = getPath(value, field);
      if (typeof name === 'string' && name) nextSecrets[field] = name;
      setPath(nextPlain, field, undefined);
    }
    // Secret names the spec does not know (from before the form loaded) are kept.
    for (const [field, name] of Object.entries(secrets))
      if (!secretFields.has(field)) nextSecrets[field] = name;
    update({
      config: nextPlain,
      secrets: Object.keys(nextSecrets).length ? nextSecrets : undefined,
    });
  };

  const discover = () => {
    const mine = ++discoverGeneration.current;
    const cancelled = () => discoverGeneration.current !== mine;
    setDiscoverError(null);
    setDiscovering('Listing the streams…');
    const files = typeof props.config.files === 'string' ? props.config.files : undefined;
    settle(
      props.project,
      Api.connectorDiscover(props.project, {
        type: props.type,
        package: pkg,
        ...(command ? { command } : {}),
        ...(Array.isArray(props.config.requirements)
          ? { requirements: props.config.requirements as string[] }
          : {}),
        config: plain,
        secrets,
        network: props.config.network === true,
        ...(files ? { files } : {}),
      }) as Promise<Answer>,
      setDiscovering,
      cancelled,
    )
      .then((answer) => {
        if (!answer) return;
        setStreams(answer.streams ?? []);
        setDiscovering(null);
      })
      .catch((e: unknown) => {
        if (cancelled()) return;
        setDiscoverError(messageOf(e));
        setDiscovering(null);
      });
  };

  // Some connectors' nodes read one stream (`stream`), others any number (`streams`).
  const single = props.probe.streams === 'one';
  const setPicked = (next: PickedStream[]) =>
    single
      ? update({ stream: next.at(-1)?.name, syncMode: next.at(-1)?.syncMode, streams: undefined })
      : update({ streams: next.length ? next : undefined, stream: undefined });

  if (!pinned) {
    return (
      <p className="field-help" role="note">
        Pin the package ({props.probe.packageExample}) to load the connector’s form.
      </p>
    );
  }
  return (
    <section className="connector-form" aria-label="Connector settings">
      <h4>Connector settings</h4>
      {status && (
        <p className="muted small" role="status" aria-live="polite">
          {status}
        </p>
      )}
      {error && (
        <p className="field-message" role="alert">
          {error}
        </p>
      )}
      {spec?.schema && spec.note && (
        // Parts of the spec that are not valid JSON Schema were left out: say which.
        <p className="field-help" role="note">
          {spec.note}
        </p>
      )}
      {spec?.schema ? (
        <SchemaForm
          schema={spec.schema as JsonSchema}
          value={merged}
          onChange={onForm}
          ctx={{
            ...props.ctx,
            secretFields,
            // The connector's own fields are checked by the connector: errors here are the node's.
            errors: new Map(
              [...props.ctx.errors].flatMap(([path, message]) =>
                path.startsWith('config.')
                  ? [[path.slice('config.'.length), message] as const]
                  : path.startsWith('secrets.')
                    ? [[path.slice('secrets.'.length), message] as const]
                    : [],
              ),
            ),
          }}
        />
      ) : spec ? (
        <p className="field-help" role="note">
          {spec.note}
        </p>
      ) : null}
      <div className="connector-streams" aria-label="Streams">
        <h4>Streams</h4>
        <button type="button" onClick={discover} disabled={!!discovering}>
          {streams ? 'Discover again' : 'Discover streams'}
        </button>
        {discovering && (
          <p className="muted small" role="status" aria-live="polite">
            {discovering}
          </p>
        )}
        {discoverError && (
          <p className="field-message" role="alert">
            {discoverError}
          </p>
        )}
        {!streams && picked.length > 0 && (
          <p className="muted small">Reads: {picked.map((p) => p.name).join(', ')}</p>
        )}
        {streams && (
          <ul className="stream-picker">
            {streams.map((s) => {
              const choice = picked.find((p) => p.name === s.name);
              const mode = choice?.syncMode ?? 'full_refresh';
              return (
                <li key={s.name}>
                  <label>
                    <input
                      type="checkbox"
                      className="nodrag"
                      checked={!!choice}
                      aria-label={`Read stream ${s.name}`}
                      onChange={(e) =>
                        setPicked(
                          e.target.checked
                            ? [...(single ? [] : picked), { name: s.name, syncMode: 'full_refresh' }]
                            : picked.filter((p) => p.name !== s.name),
                        )
                      }
                    />{' '}
                    <strong>{s.name}</strong>
                  </label>{' '}
                  <select
                    className="nodrag"
                    aria-label={`Sync mode of ${s.name}`}
                    value={mode}
                    disabled={!choice}
                    onChange={(e) =>
                      setPicked(
                        picked.map((p) =>
                          p.name === s.name ? { ...p, syncMode: e.target.value as SyncMode } : p,
                        ),
                      )
                    }
                  >
                    {s.syncModes.map((m) => (
                      <option key={m} value={m}>
                        {m === 'full_refresh' ? 'full refresh' : 'incremental'}
                      </option>
                    ))}
                  </select>
                  {s.replicationKeys && choice?.syncMode === 'incremental' && (
                    <select
                      className="nodrag"
                      aria-label={`Replication key of ${s.name}`}
                      value={choice.replicationKey ?? ''}
                      onChange={(e) =>
                        setPicked(
                          picked.map((p) => {
                            if (p.name !== s.name) return p;
                            const { replicationKey: _, ...rest } = p;
                            return e.target.value ? { ...rest, replicationKey: e.target.value } : rest;
                          }),
                        )
                      }
                    >
                      <option value="">the tap’s default key</option>
                      {s.replicationKeys.map((k) => (
                        <option key={k} value={k}>
                          {k}
                        </option>
                      ))}
                    </select>
                  )}
                  <div className="muted small stream-columns">
                    {s.columns.map((c) => `${c.name} ${c.type}`).join(', ')}
                  </div>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </section>
  );
}
