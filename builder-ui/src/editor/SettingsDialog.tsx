// Pipeline settings (name, description, parallelism, concurrency, keepStaging) and the params
// editor. Every change goes through the store, so it is undoable and marks the pipeline unsaved.
import { useId, useState } from 'react';
import { NotificationRules } from '../components/NotificationRules.tsx';
import { Dialog } from '../components/ui.tsx';
import { PARAM_TYPES, type Concurrency, type ParamSpec, type ParamType } from '../model/types.ts';
import { editorStore, useEditor } from '../store/editor.ts';
import { CheckRow, NumberRow, TextRow } from './ConfigPanel.tsx';

const NO_PARAMS: Record<string, ParamSpec> = {};

export function SettingsDialog(props: {
  onClose: () => void;
  tab?: 'settings' | 'params' | 'notifications';
}) {
  const meta = useEditor((s) => s.meta);
  const [tab, setTab] = useState(props.tab ?? 'settings');
  const store = editorStore.getState();
  const settings = meta.settings ?? {};
  const concurrencyId = useId();
  const setSettings = (patch: Partial<typeof settings>, key?: string) =>
    store.updateMeta({ settings: { ...settings, ...patch } }, key);
  return (
    <Dialog title="Pipeline settings" onClose={props.onClose} wide>
      <div role="tablist" aria-label="Settings sections" className="tabs">
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'settings'}
          onClick={() => setTab('settings')}
        >
          General
        </button>
        <button type="button" role="tab" aria-selected={tab === 'params'} onClick={() => setTab('params')}>
          Params ({Object.keys(meta.params ?? {}).length})
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'notifications'}
          onClick={() => setTab('notifications')}
        >
          Notifications ({meta.notifications?.rules?.length ?? 0})
        </button>
      </div>
      {tab === 'settings' ? (
        <div role="tabpanel" aria-label="General">
          <TextRow
            label="Pipeline name"
            value={meta.name}
            onChange={(v) => store.updateMeta({ name: v }, 'meta:name')}
          />
          <TextRow
            label="Pipeline description"
            multiline
            value={meta.description ?? ''}
            onChange={(v) => store.updateMeta({ description: v || undefined }, 'meta:description')}
          />
          <p className="muted small">
            Id <code>{meta.id}</code> in project <code>{meta.project ?? 'default'}</code> (fixed once
            created).
          </p>
          <NumberRow
            label="Max parallel steps"
            help="Steps that may run at once (default 4)."
            value={settings.maxParallel}
            onChange={(v) => setSettings({ maxParallel: v }, 'meta:maxParallel')}
          />
          <div className="field">
            <label htmlFor={concurrencyId}>When a run starts while another is in flight</label>
            <select
              id={concurrencyId}
              value={settings.concurrency ?? 'allow'}
              onChange={(e) => setSettings({ concurrency: e.target.value as Concurrency })}
            >
              <option value="allow">allow — both run</option>
              <option value="queue">queue — the new one waits its turn</option>
              <option value="skip">skip — the new one is refused</option>
            </select>
          </div>
          <CheckRow
            label="Keep step outputs for previews (keepStaging)"
            help="Each step's output table is kept for 24 hours so the editor can show its rows."
            checked={!!settings.keepStaging}
            onChange={(v) => setSettings({ keepStaging: v })}
          />
        </div>
      ) : tab === 'params' ? (
        <ParamsEditor />
      ) : (
        <div role="tabpanel" aria-label="Notifications">
          <p className="muted small">
            Saved with the pipeline (so <code>tributary pull</code> and <code>push</code> carry them).
          </p>
          <CheckRow
            label="Also use the project's default rules"
            help="Settings → Notifications holds the project's defaults."
            checked={meta.notifications?.projectDefaults !== false}
            onChange={(v) =>
              store.updateMeta({
                notifications: { ...meta.notifications, projectDefaults: v ? undefined : false },
              })
            }
          />
          <NotificationRules
            project={meta.project ?? 'default'}
            pipelineId={meta.id}
            rules={meta.notifications?.rules ?? []}
            onChange={(rules) =>
              store.updateMeta(
                { notifications: { ...meta.notifications, rules: rules.length ? rules : undefined } },
                'meta:notifications',
              )
            }
          />
        </div>
      )}
    </Dialog>
  );
}

function ParamsEditor() {
  const params = useEditor((s) => s.meta.params) ?? NO_PARAMS;
  const entries = Object.entries(params);
  const [newName, setNewName] = useState('');
  const store = editorStore.getState();
  const write = (next: [string, ParamSpec][], key?: string) =>
    store.updateMeta({ params: Object.fromEntries(next) }, key);
  const nameOk = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(newName) && !params[newName];
  return (
    <div role="tabpanel" aria-label="Params">
      <p className="muted small">
        Params are given when a run starts and used in SQL as <code>{'{{ params.name }}'}</code> (bound, never
        spliced).
      </p>
      {entries.length === 0 && <p className="muted">No params yet.</p>}
      {entries.length > 0 && (
        <table className="params-table" aria-label="Params">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Default</th>
              <th>Required</th>
              <th>Sensitive</th>
              <th>Description</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {entries.map(([name, spec], i) => {
              const update = (patch: Partial<ParamSpec>, key?: string) => {
                const merged: ParamSpec = { ...spec, ...patch };
                for (const k of Object.keys(patch) as (keyof ParamSpec)[])
                  if (patch[k] === undefined) delete merged[k];
                write(
                  entries.map((e, j) => (j === i ? [name, merged] : e)),
                  key,
                );
              };
              return (
                <tr key={name}>
                  <td>
                    <code>{name}</code>
                  </td>
                  <td>
                    <select
                      aria-label={`Type of ${name}`}
                      value={spec.type}
                      onChange={(e) => update({ type: e.target.value as ParamType, default: undefined })}
                    >
                      {PARAM_TYPES.map((t) => (
                        <option key={t}>{t}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {spec.type === 'boolean' ? (
                      <select
                        aria-label={`Default of ${name}`}
                        value={spec.default === undefined ? '' : String(spec.default)}
                        onChange={(e) =>
                          update({ default: e.target.value === '' ? undefined : e.target.value === 'true' })
                        }
                      >
                        <option value="">none</option>
                        <option value="true">true</option>
                        <option value="false">false</option>
                      </select>
                    ) : (
                      <input
                        aria-label={`Default of ${name}`}
                        type={
                          spec.type === 'number' || spec.type === 'integer'
                            ? 'number'
                            : spec.type === 'date'
                              ? 'date'
                              : 'text'
                        }
                        value={spec.default === undefined ? '' : String(spec.default)}
                        onChange={(e) => {
                          const raw = e.target.value;
                          const numeric = spec.type === 'number' || spec.type === 'integer';
                          update(
                            { default: raw === '' ? undefined : numeric ? Number(raw) : raw },
                            `param:${name}:default`,
                          );
                        }}
                      />
                    )}
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`${name} is required`}
                      checked={!!spec.required}
                      onChange={(e) => update({ required: e.target.checked || undefined })}
                    />
                  </td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`${name} is sensitive`}
                      checked={!!spec.sensitive}
                      onChange={(e) => update({ sensitive: e.target.checked || undefined })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Description of ${name}`}
                      value={spec.description ?? ''}
                      onChange={(e) =>
                        update({ description: e.target.value || undefined }, `param:${name}:description`)
                      }
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="icon-button"
                      aria-label={`Remove param ${name}`}
                      onClick={() => write(entries.filter((_, j) => j !== i))}
                    >
                      ×
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!nameOk) return;
          write([...entries, [newName, { type: 'string' }]]);
          setNewName('');
        }}
      >
        <input
          aria-label="New param name"
          placeholder="new_param"
          value={newName}
          onChange={(e) => setNewName(e.target.value)}
        />
        <button type="submit" disabled={!nameOk}>
          Add param
        </button>
        {newName && !nameOk && (
          <span className="field-message">
            {params[newName]
              ? 'That param exists.'
              : 'Names are identifiers: letters, digits, _ (not first a digit).'}
          </span>
        )}
      </form>
    </div>
  );
}
