// A Python connector node's config checked against its connector's spec where that spec is cached
// already (a form was shown, a run or probe read it): on validate, on a save's answer and before
// publishing. A spec not yet read is not an error; the validity says the config is checked once the
// spec is known (and the run checks it before the connector starts anyway).
import { checkAgainstSpec, formSpec, type ConnectorSpec } from '@tributary/activities';
import type pg from 'pg';
import type { NodeCatalog } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';

/** Which spec: the node type, its pinned package and (a tap's) command. */
export interface SpecKey {
  type: string;
  package: string;
  command?: string | undefined;
}

/** `airbyte-source-faker == 6.2.32` and `airbyte-source-faker==6.2.32` are one package. */
const normalise = (pkg: string) => pkg.replace(/\s+/g, '').toLowerCase();
export const specCacheKey = (q: SpecKey) => `${normalise(q.package)}${q.command ? ` ${q.command}` : ''}`;

/** The cached spec of a connector (migration 110's table), as the form shows it. */
export async function cachedConnectorSpec(pool: pg.Pool, key: SpecKey): Promise<ConnectorSpec | undefined> {
  const { rows } = await pool.query<{ spec: ConnectorSpec }>(
    'select spec from tributary.connector_specs where type = $1 and package = $2',
    [key.type, specCacheKey(key)],
  );
  // Specs cached before invalid parts were left out are made usable on the way out, too.
  return rows[0] ? formSpec(key.package, rows[0].spec) : undefined;
}

export interface ConnectorConfigCheck {
  errors: CompileError[];
  /** Nodes whose spec is not known yet: their config is checked once it is. */
  notes: string[];
}

/** Each connector node of a document checked against its cached spec. */
export async function checkConnectorConfigs(
  pool: pg.Pool,
  catalog: NodeCatalog,
  document: unknown,
): Promise<ConnectorConfigCheck> {
  const result: ConnectorConfigCheck = { errors: [], notes: [] };
  const nodes = (document as { nodes?: unknown })?.nodes;
  if (!Array.isArray(nodes)) return result;
  await Promise.all(
    nodes.map(async (node: unknown, index) => {
      const { id, type, config } = (node ?? {}) as { id?: unknown; type?: unknown; config?: unknown };
      if (typeof type !== 'string' || typeof config !== 'object' || config === null) return;
      const wanted = catalog.get(type)?.probe?.nodeConfig(config as Record<string, unknown>);
      if (!wanted) return;
      const nodeId = typeof id === 'string' ? id : String(index);
      const spec = await cachedConnectorSpec(pool, {
        type,
        package: wanted.package,
        command: wanted.command,
      });
      if (!spec) {
        result.notes.push(
          `${nodeId}: the spec of ${wanted.package} is not known yet (open the node's form, or run it): its config is checked against the spec once it is`,
        );
        return;
      }
      for (const problem of checkAgainstSpec(spec, wanted.config, wanted.secrets)) {
        const field = problem.path ? `${wanted.field}.${problem.path}` : wanted.field;
        result.errors.push({
          code: 'invalid_connector_config',
          nodeId,
          path: `nodes[${index}].config.${field}`,
          message: `Node "${nodeId}", field "${field}": ${problem.message} (the spec of ${wanted.package})`,
        });
      }
    }),
  );
  // Nodes in document order, whatever order their lookups answered in.
  result.errors.sort((a, b) => nodeIndex(a.path) - nodeIndex(b.path));
  return result;
}

const nodeIndex = (path: string | undefined) => Number(/^nodes\[(\d+)\]/.exec(path ?? '')?.[1] ?? 0);
