// A form generated from a node type's JSON Schema: text, number, enum → select, boolean →
// checkbox, and what the declaration marks with `x-widget`: a secret name → a picker of the
// project's secrets, SQL → CodeMirror, a path → a text field for the data directory; records → key-value
// rows, discriminated unions → a variant picker, lists of objects → repeated sub-forms, and
// anything else → a JSON text area. Every control has a label; `nodrag` keeps the canvas still.
import { lazy, Suspense, useEffect, useId, useState } from 'react';
import { humanize, plainMessage } from '../model/config.ts';
import type { JsonSchema } from '../model/types.ts';
import type { Column, SqlProblem } from './SqlEditor.tsx';

const SqlEditor = lazy(() => import('./SqlEditor.tsx'));
const PythonEditor = lazy(() => import('./PythonEditor.tsx'));

export interface FormContext {
  nodeId: string;
  /** The project's secret names; null while unknown. */
  secrets: string[] | null;
  upstream: string[];
  params: string[];
  /** Field paths with a validation error, with the message. */
  errors: Map<string, string>;
  /**
   * Whether a field's error may be shown yet: a new node's empty fields are not errors to shout
   * about before the user has been in them. Without it, every error shows.
   */
  shows?: (path: string, value: unknown) => boolean;
  /** Marks a field as visited (left, or changed). */
  touch?: (path: string) => void;
  /** SQL problems by field path, at their line and column, for the SQL editor's squiggles. */
  sqlProblems?: ReadonlyMap<string, readonly SqlProblem[]>;
  /** The columns of each input table, by input node id, when known. */
  inputColumns?: Readonly<Record<string, readonly Column[] | null>>;
  /** Top-level fields that name a secret, when the caller knows (template params). */
  secretFields?: ReadonlySet<string>;
  /** The project's warehouse tables (`schema.table`), for a field that names one; null while unknown. */
  tables?: readonly string[] | null;
  /** The data products the project may read, for a field that names one; null while unknown. */
  products?: readonly { id: string; name: string; project: string; own: boolean }[] | null;
}

type Value = unknown;
type Obj = Record<string, unknown>;

const singular = (label: string) =>
  label.endsWith('s') && !label.endsWith('ss') ? label.slice(0, -1) : label;

const typeOf = (schema: JsonSchema): string | undefined =>
  Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;

/** The widget the connector declares for a string field (`.meta({ 'x-widget': … })` in its zod schema). */
const widgetOf = (schema: JsonSchema) => (typeOf(schema) === 'string' ? schema['x-widget'] : undefined);

/** A oneOf of objects told apart by one `const` property: its name and the variants. */
function discriminated(schema: JsonSchema): { key: string; variants: JsonSchema[] } | null {
  const variants = schema.oneOf ?? schema.anyOf;
  if (!variants || variants.length === 0) return null;
  const first = variants[0]!.properties ?? {};
  for (const key of Object.keys(first)) {
    if (variants.every((v) => v.properties?.[key]?.const !== undefined)) return { key, variants };
  }
  return null;
}

const isRecord = (schema: JsonSchema) =>
  typeOf(schema) === 'object' &&
  !schema.properties &&
  typeof schema.additionalProperties === 'object' &&
  ['string', 'number', 'boolean', undefined].includes(typeOf(schema.additionalProperties));

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function SchemaForm(props: {
  schema: JsonSchema;
  value: Obj;
  onChange: (value: Obj) => void;
  ctx: FormContext;
}) {
  return (
    <ObjectFields
      schema={props.schema}
      value={props.value}
      onChange={props.onChange}
      ctx={props.ctx}
      path=""
      labelPrefix=""
    />
  );
}

function ObjectFields(props: {
  schema: JsonSchema;
  value: Obj;
  onChange: (value: Obj) => void;
  ctx: FormContext;
  path: string;
  labelPrefix: string;
  skip?: string;
}) {
  const { schema, value, onChange } = props;
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {}).filter(([key]) => key !== props.skip);
  return (
    <>
      {entries.map(([key, sub]) => (
        <Field
          key={key}
          name={key}
          schema={sub}
          value={value[key]}
          required={required.has(key)}
          label={props.labelPrefix ? `${props.labelPrefix} ${humanize(key).toLowerCase()}` : humanize(key)}
          path={props.path ? `${props.path}.${key}` : key}
          ctx={props.ctx}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[key];
            else next[key] = v;
            onChange(next);
          }}
        />
      ))}
    </>
  );
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  value: Value;
  required: boolean;
  label: string;
  path: string;
  ctx: FormContext;
  onChange: (value: Value) => void;
}

function Field(props: FieldProps) {
  const { schema } = props;
  const type = typeOf(schema);
  const widget = widgetOf(schema);
  if (schema.const !== undefined) return null;
  if (widget === 'secret' || (props.ctx.secretFields?.has(props.path) && type === 'string'))
    return <SecretField {...props} />;
  if (widget === 'sql') return <SqlField {...props} />;
  if (widget === 'product') return <ProductField {...props} />;
  if (widget === 'table') return <TableField {...props} />;
  if (widget === 'python') return <PythonField {...props} />;
  if (schema.enum) return <EnumField {...props} />;
  if (type === 'boolean') return <BooleanField {...props} />;
  if (type === 'integer' || type === 'number') return <NumberField {...props} />;
  if (type === 'string') return <TextField {...props} />;
  if (discriminated(schema)) return <VariantField {...props} />;
  if (isRecord(schema)) return <RecordField {...props} />;
  if (type === 'object' && schema.properties) {
    return (
      <fieldset className="field-group">
        <legend>{props.label}</legend>
        <ObjectFields
          schema={schema}
          value={isObj(props.value) ? props.value : {}}
          onChange={(v) => props.onChange(Object.keys(v).length ? v : undefined)}
          ctx={props.ctx}
          path={props.path}
          labelPrefix={props.label}
        />
      </fieldset>
    );
  }
  if (type === 'array' && schema.items) {
    const itemType = typeOf(schema.items);
    if (itemType === 'string' || itemType === 'integer' || itemType === 'number')
      return <ListField {...props} />;
    if (schema.items.properties || discriminated(schema.items)) return <ObjectListField {...props} />;
  }
  return <JsonField {...props} />;
}

/** Label, description and error around one control. */
function Row(props: FieldProps & { id: string; children: React.ReactNode; inline?: boolean }) {
  const raw = props.ctx.errors.get(props.path);
  const error =
    raw && (props.ctx.shows?.(props.path, props.value) ?? true) ? plainMessage(raw, props.label) : null;
  const value = props.value === undefined ? props.schema.default : props.value;
  const note = typeof value === 'string' ? props.schema['x-option-notes']?.[value] : undefined;
  return (
    <div
      className={`field${props.inline ? ' field-inline' : ''}${error ? ' field-error' : ''}`}
      onBlur={() => props.ctx.touch?.(props.path)}
    >
      {!props.inline && (
        <label htmlFor={props.id}>
          {props.label}
          {props.required && <span aria-hidden="true"> *</span>}
        </label>
      )}
      {props.children}
      {props.inline && (
        <label htmlFor={props.id}>
          {props.label}
          {props.required && <span aria-hidden="true"> *</span>}
        </label>
      )}
      {props.schema.description && (
        <p className="field-help" id={`${props.id}-help`}>
          {props.schema.description}
        </p>
      )}
      {note && (
        <p className="field-warning" role="note">
          ⚠ {note}
        </p>
      )}
      {error && (
        <p className="field-message" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

const describedBy = (props: FieldProps, id: string) => (props.schema.description ? `${id}-help` : undefined);
const placeholderOf = (schema: JsonSchema): string | undefined => {
  if (schema.default !== undefined && typeof schema.default !== 'object')
    return `default: ${String(schema.default)}`;
  const example = schema.examples?.[0];
  if (example !== undefined) return `e.g. ${Array.isArray(example) ? example.join(', ') : String(example)}`;
  // Files are read and written only inside the data directory, so a path is relative to it.
  if (widgetOf(schema) === 'path') return 'relative to the data directory, e.g. in/orders.csv';
  return undefined;
};

function TextField(props: FieldProps) {
  const id = useId();
  return (
    <Row {...props} id={id}>
      <input
        id={id}
        className="nodrag"
        type="text"
        value={typeof props.value === 'string' ? props.value : ''}
        placeholder={placeholderOf(props.schema)}
        aria-required={props.required}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => props.onChange(e.target.value === '' ? undefined : e.target.value)}
      />
    </Row>
  );
}

function NumberField(props: FieldProps) {
  const id = useId();
  const [text, setText] = useState(props.value === undefined ? '' : String(props.value));
  useEffect(() => {
    // Follow outside changes (undo), but not our own half-typed text like "1." or "-".
    if (Number(text) !== props.value && !(text === '' && props.value === undefined))
      setText(props.value === undefined ? '' : String(props.value));
  }, [props.value]);
  return (
    <Row {...props} id={id}>
      <input
        id={id}
        className="nodrag"
        type="number"
        inputMode="decimal"
        value={text}
        step={typeOf(props.schema) === 'integer' ? 1 : 'any'}
        min={
          props.schema.minimum !== undefined && Math.abs(props.schema.minimum) < 1e15
            ? props.schema.minimum
            : undefined
        }
        max={
          props.schema.maximum !== undefined && Math.abs(props.schema.maximum) < 1e15
            ? props.schema.maximum
            : undefined
        }
        placeholder={placeholderOf(props.schema)}
        aria-required={props.required}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => {
          setText(e.target.value);
          const n = e.target.valueAsNumber;
          props.onChange(e.target.value === '' || Number.isNaN(n) ? undefined : n);
        }}
      />
    </Row>
  );
}

function BooleanField(props: FieldProps) {
  const id = useId();
  const checked = typeof props.value === 'boolean' ? props.value : props.schema.default === true;
  return (
    <Row {...props} id={id} inline>
      <input
        id={id}
        className="nodrag"
        type="checkbox"
        checked={checked}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => props.onChange(e.target.checked)}
      />
    </Row>
  );
}

function EnumField(props: FieldProps) {
  const id = useId();
  const options = (props.schema.enum ?? []).map(String);
  return (
    <Row {...props} id={id}>
      <select
        id={id}
        className="nodrag"
        value={props.value === undefined ? '' : String(props.value)}
        aria-required={props.required}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => {
          const raw = e.target.value;
          const original = props.schema.enum?.find((o) => String(o) === raw);
          props.onChange(raw === '' ? undefined : original);
        }}
      >
        <option value="">
          {props.schema.default !== undefined ? `Default (${String(props.schema.default)})` : '— choose —'}
        </option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </Row>
  );
}

function SecretField(props: FieldProps) {
  const id = useId();
  const value = typeof props.value === 'string' ? props.value : '';
  const secrets = props.ctx.secrets;
  if (secrets === null) return <TextField {...props} />;
  const options = value && !secrets.includes(value) ? [...secrets, value] : secrets;
  return (
    <Row {...props} id={id}>
      <select
        id={id}
        className="nodrag"
        value={value}
        aria-required={props.required}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      >
        <option value="">{secrets.length ? '— choose a secret —' : '— no secrets in this project —'}</option>
        {options.map((s) => (
          <option key={s} value={s}>
            {s}
            {!secrets.includes(s) ? ' (missing)' : ''}
          </option>
        ))}
      </select>
      <p className="field-help">
        Secrets are set in <a href="/settings">Settings</a>; only their names are stored in the pipeline.
      </p>
    </Row>
  );
}

/** A data product the project may read (its own, or shared with it): a picker, never free text. */
function ProductField(props: FieldProps) {
  const id = useId();
  const value = typeof props.value === 'string' ? props.value : '';
  const products = props.ctx.products;
  if (!products) return <TextField {...props} />;
  const known = products.some((p) => p.id === value);
  return (
    <Row {...props} id={id}>
      <select
        id={id}
        className="nodrag"
        value={value}
        aria-required={props.required}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      >
        <option value="">
          {products.length ? '— choose a data product —' : '— no product this project may read —'}
        </option>
        {value && !known && <option value={value}>{value} (not readable by this project)</option>}
        {products.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name} ({p.id}){p.own ? '' : ` · shared by ${p.project}`}
          </option>
        ))}
      </select>
      <p className="field-help">
        The project&apos;s own products and those shared with it; find others in the{' '}
        <a href="/catalog">catalog</a>.
      </p>
    </Row>
  );
}

/** A warehouse table: free text (`schema.table`) with the project's own tables offered. */
function TableField(props: FieldProps) {
  const id = useId();
  const listId = useId();
  const tables = props.ctx.tables;
  return (
    <Row {...props} id={id}>
      <input
        id={id}
        className="nodrag"
        type="text"
        list={tables ? listId : undefined}
        value={typeof props.value === 'string' ? props.value : ''}
        placeholder="schema.table"
        aria-required={props.required}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => props.onChange(e.target.value === '' ? undefined : e.target.value)}
      />
      {tables && (
        <datalist id={listId}>
          {tables.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      )}
    </Row>
  );
}

function SqlField(props: FieldProps) {
  const id = useId();
  return (
    <Row {...props} id={id}>
      <Suspense
        fallback={
          <textarea
            id={id}
            className="nodrag"
            aria-label={props.label}
            readOnly
            value="Loading the SQL editor…"
          />
        }
      >
        <SqlEditor
          id={id}
          label={`${props.label} of ${props.ctx.nodeId}`}
          value={typeof props.value === 'string' ? props.value : ''}
          onChange={(v) => props.onChange(v === '' ? undefined : v)}
          inputs={props.ctx.upstream}
          params={props.ctx.params}
          problems={props.ctx.sqlProblems?.get(props.path)}
          columns={props.ctx.inputColumns}
        />
      </Suspense>
      {props.ctx.upstream.length > 0 && (
        <p className="field-help">
          Inputs:{' '}
          {props.ctx.upstream.map((u) => (
            <code key={u}>{`{{ inputs.${u} }}`}</code>
          ))}{' '}
          — type <code>{'{{'}</code> for completions.
        </p>
      )}
    </Row>
  );
}

function PythonField(props: FieldProps) {
  const id = useId();
  return (
    <Row {...props} id={id}>
      <Suspense
        fallback={
          <textarea
            id={id}
            className="nodrag"
            aria-label={props.label}
            readOnly
            value="Loading the Python editor…"
          />
        }
      >
        <PythonEditor
          id={id}
          label={`${props.label} of ${props.ctx.nodeId}`}
          value={typeof props.value === 'string' ? props.value : ''}
          onChange={(v) => props.onChange(v === '' ? undefined : v)}
          inputs={props.ctx.upstream}
          params={props.ctx.params}
          columns={props.ctx.inputColumns}
        />
      </Suspense>
      {props.ctx.upstream.length > 0 && (
        <p className="field-help">
          Inputs:{' '}
          {props.ctx.upstream.map((u) => (
            <code key={u}>{`inputs["${u}"]`}</code>
          ))}{' '}
          — DataFrames (or Arrow tables); return the output table.
        </p>
      )}
    </Row>
  );
}

function ListField(props: FieldProps) {
  const id = useId();
  const items = Array.isArray(props.value) ? props.value.map(String) : [];
  const [text, setText] = useState(items.join(', '));
  useEffect(() => {
    const parsed = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (parsed.join(',') !== items.join(',')) setText(items.join(', '));
  }, [items.join(',')]);
  const numeric = typeOf(props.schema.items!) !== 'string';
  return (
    <Row {...props} id={id}>
      <input
        id={id}
        className="nodrag"
        type="text"
        value={text}
        placeholder={placeholderOf(props.schema) ?? 'comma, separated, values'}
        aria-describedby={describedBy(props, id)}
        onChange={(e) => {
          setText(e.target.value);
          const parts = e.target.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          props.onChange(parts.length ? (numeric ? parts.map(Number) : parts) : undefined);
        }}
      />
    </Row>
  );
}

function RecordField(props: FieldProps) {
  const id = useId();
  const record = isObj(props.value) ? props.value : {};
  const [rows, setRows] = useState<[string, string][]>(() =>
    Object.entries(record).map(([k, v]) => [k, String(v)]),
  );
  useEffect(() => {
    const current = Object.fromEntries(rows.filter(([k]) => k));
    if (
      JSON.stringify(current) !==
      JSON.stringify(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, String(v)])))
    )
      setRows(Object.entries(record).map(([k, v]) => [k, String(v)]));
  }, [JSON.stringify(record)]);
  const valueType = typeOf(props.schema.additionalProperties as JsonSchema);
  const emit = (next: [string, string][]) => {
    setRows(next);
    const obj: Obj = {};
    for (const [k, v] of next) {
      if (!k) continue;
      obj[k] = valueType === 'number' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
    }
    props.onChange(Object.keys(obj).length ? obj : undefined);
  };
  return (
    <Row {...props} id={id}>
      <div className="kv-list" id={id} role="group" aria-label={props.label}>
        {rows.map(([k, v], i) => (
          <div className="kv-row" key={i}>
            <input
              className="nodrag"
              aria-label={`${props.label} key ${i + 1}`}
              value={k}
              placeholder="key"
              onChange={(e) => emit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
            />
            <input
              className="nodrag"
              aria-label={`${props.label} value ${i + 1}`}
              value={v}
              placeholder="value"
              onChange={(e) => emit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
            />
            <button
              type="button"
              className="icon-button nodrag"
              aria-label={`Remove ${props.label.toLowerCase()} entry ${i + 1}`}
              onClick={() => emit(rows.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
        ))}
        <button type="button" className="link-button nodrag" onClick={() => setRows([...rows, ['', '']])}>
          + Add {props.label.toLowerCase()} entry
        </button>
      </div>
    </Row>
  );
}

function VariantField(props: FieldProps) {
  const id = useId();
  const { key, variants } = discriminated(props.schema)!;
  const value = isObj(props.value) ? props.value : undefined;
  const current = value?.[key];
  const variant = variants.find((v) => v.properties![key]!.const === current);
  return (
    <fieldset className="field-group">
      <legend>{props.label}</legend>
      <Row
        {...props}
        path={`${props.path}.${key}`}
        label={`${props.label} ${humanize(key).toLowerCase()}`}
        id={id}
      >
        <select
          id={id}
          className="nodrag"
          value={current === undefined ? '' : String(current)}
          onChange={(e) => {
            const picked = variants.find((v) => String(v.properties![key]!.const) === e.target.value);
            if (!picked) return props.onChange(undefined);
            // Keep the fields the new variant also has.
            const kept = Object.fromEntries(
              Object.entries(value ?? {}).filter(([k]) => k !== key && picked.properties?.[k]),
            );
            props.onChange({ [key]: picked.properties![key]!.const, ...kept });
          }}
        >
          {!props.required || current === undefined ? (
            <option value="">{props.required ? '— choose —' : 'None'}</option>
          ) : null}
          {variants.map((v) => {
            const c = String(v.properties![key]!.const);
            return (
              <option key={c} value={c}>
                {c}
              </option>
            );
          })}
        </select>
      </Row>
      {variant && value && (
        <ObjectFields
          schema={variant}
          value={value}
          onChange={props.onChange}
          ctx={props.ctx}
          path={props.path}
          labelPrefix={props.label}
          skip={key}
        />
      )}
    </fieldset>
  );
}

function ObjectListField(props: FieldProps) {
  const items = Array.isArray(props.value) ? (props.value as Obj[]) : [];
  const itemSchema = props.schema.items!;
  const variants = discriminated(itemSchema);
  const itemLabel = singular(props.label);
  const set = (next: Obj[]) => props.onChange(next.length ? next : undefined);
  const blank = (): Obj => {
    if (!variants) return {};
    const first = variants.variants[0]!;
    return { [variants.key]: first.properties![variants.key]!.const };
  };
  const raw = props.ctx.errors.get(props.path);
  const error =
    raw && (props.ctx.shows?.(props.path, props.value) ?? true) ? plainMessage(raw, props.label) : null;
  return (
    <fieldset
      className={`field-group${error ? ' field-error' : ''}`}
      onBlur={() => props.ctx.touch?.(props.path)}
    >
      <legend>
        {props.label}
        {props.required && <span aria-hidden="true"> *</span>}
      </legend>
      {props.schema.description && <p className="field-help">{props.schema.description}</p>}
      {error && (
        <p className="field-message" role="alert">
          {error}
        </p>
      )}
      {items.map((item, i) => {
        const label = `${itemLabel} ${i + 1}`;
        const change = (v: Value) => set(items.map((it, j) => (j === i ? ((v ?? {}) as Obj) : it)));
        return (
          <div className="list-item" key={i} role="group" aria-label={label}>
            <div className="list-item-header">
              <span>{label}</span>
              <button
                type="button"
                className="icon-button nodrag"
                aria-label={`Remove ${label.toLowerCase()}`}
                onClick={() => set(items.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </div>
            {variants ? (
              <VariantInline
                schema={itemSchema}
                value={item}
                label={label}
                path={`${props.path}[${i}]`}
                ctx={props.ctx}
                onChange={change}
              />
            ) : (
              <ObjectFields
                schema={itemSchema}
                value={item}
                onChange={change}
                ctx={props.ctx}
                path={`${props.path}[${i}]`}
                labelPrefix={label}
              />
            )}
          </div>
        );
      })}
      <button type="button" className="link-button nodrag" onClick={() => set([...items, blank()])}>
        + Add {itemLabel.toLowerCase()}
      </button>
    </fieldset>
  );
}

/** A list item of a discriminated union: all its fields, the discriminator as a select among them. */
function VariantInline(props: {
  schema: JsonSchema;
  value: Obj;
  label: string;
  path: string;
  ctx: FormContext;
  onChange: (v: Value) => void;
}) {
  const id = useId();
  const { key, variants } = discriminated(props.schema)!;
  const variant = variants.find((v) => v.properties![key]!.const === props.value[key]) ?? variants[0]!;
  const props0 = variant.properties ?? {};
  const before = Object.keys(props0).filter((k) => k !== key && (variant.required ?? []).includes(k));
  const required = new Set(variant.required ?? []);
  const field = (k: string) => (
    <Field
      key={k}
      name={k}
      schema={props0[k]!}
      value={props.value[k]}
      required={required.has(k)}
      label={`${props.label} ${humanize(k).toLowerCase()}`}
      path={`${props.path}.${k}`}
      ctx={props.ctx}
      onChange={(v) => {
        const next = { ...props.value };
        if (v === undefined) delete next[k];
        else next[k] = v;
        props.onChange(next);
      }}
    />
  );
  return (
    <>
      {before.map(field)}
      <div className="field">
        <label htmlFor={id}>{`${props.label} ${humanize(key).toLowerCase()}`}</label>
        <select
          id={id}
          className="nodrag"
          value={String(props.value[key] ?? '')}
          onChange={(e) => {
            const picked = variants.find((v) => String(v.properties![key]!.const) === e.target.value)!;
            const kept = Object.fromEntries(
              Object.entries(props.value).filter(([k]) => k !== key && picked.properties?.[k]),
            );
            props.onChange({ ...kept, [key]: picked.properties![key]!.const });
          }}
        >
          {variants.map((v) => {
            const c = String(v.properties![key]!.const);
            return (
              <option key={c} value={c}>
                {c}
              </option>
            );
          })}
        </select>
      </div>
      {Object.keys(props0)
        .filter((k) => k !== key && !before.includes(k))
        .map(field)}
    </>
  );
}

function JsonField(props: FieldProps) {
  const id = useId();
  const serialised = props.value === undefined ? '' : JSON.stringify(props.value, null, 2);
  const [text, setText] = useState(serialised);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    try {
      if (JSON.stringify(text.trim() ? JSON.parse(text) : undefined) === JSON.stringify(props.value)) return;
    } catch {
      // half-typed JSON: fall through and show the outside value
    }
    setText(serialised);
    setError(null);
  }, [serialised]);
  return (
    <Row {...props} id={id}>
      <textarea
        id={id}
        className="nodrag code"
        rows={Math.min(12, Math.max(3, text.split('\n').length))}
        value={text}
        spellCheck={false}
        aria-invalid={!!error}
        aria-describedby={describedBy(props, id)}
        placeholder="JSON"
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setError(null);
            props.onChange(undefined);
            return;
          }
          try {
            props.onChange(JSON.parse(e.target.value));
            setError(null);
          } catch (err) {
            setError(`Not valid JSON yet: ${(err as Error).message}`);
          }
        }}
      />
      {error && <p className="field-message">{error}</p>}
    </Row>
  );
}
