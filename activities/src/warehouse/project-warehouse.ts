// The warehouse as a pipeline step sees it: every statement runs inside a transaction under
// `SET LOCAL ROLE <project role>` on a connection of the runner login role, which has no rights of
// its own. So what a step may touch is decided by the database (the PostgREST/Supabase model), and
// the parser checks in front of SQL are a second fence, never the only one.
//
// The connection handed to a connector behaves like a pg.PoolClient: its own `begin … commit` get
// the role and timeouts added right after `begin`; a statement outside a transaction gets one of its
// own; every text query goes over the extended protocol (one statement, never a batch), and the
// connection is reset with DISCARD ALL before it goes back to the pool.
import pg from 'pg';
import { branchSchemaName, type WarehouseBranch } from './branch-schemas.js';
import { explainPermissionError, type SchemaOwners } from './schema-owners.js';

export interface ProjectWarehouseOptions {
  /** Pool of the runner login role (NOINHERIT, member of the project roles). */
  pool: pg.Pool;
  /** The step's project, and its Postgres role. */
  project: string;
  role: string;
  /** Schema that unqualified names resolve to (the project's own, `public` for `default`). */
  defaultSchema: string;
  /** statement_timeout of every statement the step runs, in milliseconds. */
  statementTimeoutMs: number;
  /** Who owns which schema, for messages that name the owning project. */
  owners: SchemaOwners;
  /** Creates a schema the project owns if it is missing (done by the provisioning connection). */
  ensureSchema: (schema: string) => Promise<void>;
  /** The development branch of the step: unqualified names resolve to its copy first, then main's. */
  branch?: WarehouseBranch;
  /**
   * Connections (of the runner role too) a step may borrow for parallel work, only when one is free
   * right now: never waited for, so a step never holds up another for them. Absent: none to borrow.
   */
  spare?: SparePool;
}

/** A budget of extra connections, with a cap on what one project may hold of it at once. */
export interface SparePool {
  pool: pg.Pool;
  /** Spare connections each project holds now (shared by all the steps of a worker). */
  held: Map<string, number>;
  /** What one project may hold at once. */
  perProject: number;
}

export interface ProjectWarehouse {
  /** One statement in a transaction of its own under the project's role. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** A connection whose statements all run under the project's role; release it when done. */
  connect(): Promise<pg.PoolClient>;
  /**
   * One more connection like `connect()`'s, if a spare one is free right now; undefined otherwise
   * (no spare pool, all in use, or the project already holds its part of them).
   */
  trySpare(): Promise<pg.PoolClient | undefined>;
  /** Cancels the statement running on a connection of this warehouse (a cancelled run). */
  cancel(client: pg.PoolClient): Promise<void>;
  /** Creates `schema` if missing; refused unless the project owns that name. */
  ensureSchema(schema: string): Promise<void>;
  /** Whether the project's role may read this table (its own, or one shared with it). */
  canRead(table: { schema: string; table: string }): Promise<boolean>;
  /** Schema of unqualified table names (main's; in a branch, reads look in the branch's copy first). */
  readonly defaultSchema: string;
  /** The step's development branch; absent on main. */
  readonly branch?: WarehouseBranch;
  readonly owners: SchemaOwners;
}

/**
 * On a warehouse connection: takes a transaction-scoped advisory lock as the platform (the runner
 * role), not as the project. Project roles may not call advisory-lock functions at all (the
 * database refuses them: engine/src/warehouse/function-fence.ts), so no pipeline SQL can take or
 * hold a lock the platform's publishes wait on. Call it inside a transaction.
 */
export const PLATFORM_LOCK = Symbol('tributary platform lock');

type PlatformLock = (namespace: string, key: string) => Promise<void>;

/**
 * Takes the lock (namespace, key) for the rest of the transaction: as the platform on a warehouse
 * connection, with the connection's own rights on any other (an external database).
 */
export async function transactionLock(client: pg.PoolClient, namespace: string, key: string): Promise<void> {
  const platform = (client as unknown as { [PLATFORM_LOCK]?: PlatformLock })[PLATFORM_LOCK];
  if (platform) return platform(namespace, key);
  await client.query('select pg_advisory_xact_lock(hashtext($1), hashtext($2))', [namespace, key]);
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|rollback|end|abort)\b/i;

export function projectWarehouse(options: ProjectWarehouseOptions): ProjectWarehouse {
  const { pool, owners } = options;
  const scope = [
    `set local role ${pg.escapeIdentifier(options.role)}`,
    `set local statement_timeout = ${Math.max(1, Math.floor(options.statementTimeoutMs))}`,
    // In a branch an unqualified name finds the branch's table when it wrote one, else main's.
    `set local search_path = ${[
      ...(options.branch ? [branchSchemaName(options.defaultSchema, options.branch.name)] : []),
      options.defaultSchema,
    ]
      .map((s) => pg.escapeIdentifier(s))
      .join(', ')}`,
  ];

  async function connect(from: pg.Pool = pool): Promise<pg.PoolClient> {
    const raw = await from.connect();
    let inTransaction = false;
    let broken = false;
    const rawQuery = raw.query.bind(raw) as (...args: unknown[]) => Promise<pg.QueryResult>;

    const enterScope = async () => {
      for (const statement of scope) await rawQuery(statement);
    };
    const run = async (text: string, values: unknown[] | undefined) => {
      try {
        return await rawQuery({ text, values: values ?? [], queryMode: 'extended' });
      } catch (error) {
        throw await explainPermissionError(error, owners, options.project);
      }
    };
    const query = (first: unknown, values?: unknown, callback?: unknown): unknown => {
      if (typeof callback === 'function' || typeof values === 'function') {
        throw new Error('warehouse connections take promises, not callbacks');
      }
      // COPY streams and other submittables are our own statements and are returned as they are
      // (a stream, not a promise). Outside a transaction they get one of their own: the client runs
      // queued statements in order, so `begin`, the scope, the COPY and `commit` follow each other
      // (a failed COPY leaves the transaction aborted, and the commit then rolls it back).
      if (typeof first !== 'string' && !isQueryConfig(first)) {
        if (inTransaction) return rawQuery(first);
        const queued = ['begin', ...scope].map((statement) => rawQuery(statement));
        const submitted = rawQuery(first);
        queued.push(rawQuery('commit'));
        for (const step of queued) step.catch(() => (broken = true));
        return submitted;
      }
      return textQuery(first, values as unknown[] | undefined);
    };
    const textQuery = async (first: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
      const text = typeof first === 'string' ? first : first.text;
      const params = typeof first === 'string' ? values : first.values;
      if (BEGIN.test(text)) {
        const result = await rawQuery(text);
        inTransaction = true;
        await enterScope();
        return result;
      }
      if (END.test(text)) {
        inTransaction = false;
        return rawQuery(text);
      }
      if (inTransaction) return run(text, params);
      await rawQuery('begin');
      try {
        await enterScope();
        const result = await run(text, params);
        await rawQuery('commit');
        return result;
      } catch (error) {
        await rawQuery('rollback').catch(() => {
          broken = true;
        });
        throw error;
      }
    };

    // Back to the runner for one statement the platform runs itself, then into the project's role.
    const platformLock: PlatformLock = async (namespace, key) => {
      if (!inTransaction) throw new Error('a platform lock is taken inside a transaction');
      await rawQuery('set local role none');
      try {
        await rawQuery({
          text: 'select pg_advisory_xact_lock(hashtext($1), hashtext($2))',
          values: [namespace, key],
          queryMode: 'extended',
        });
      } finally {
        await rawQuery(`set local role ${pg.escapeIdentifier(options.role)}`);
      }
    };

    let released = false;
    const release = (destroy?: boolean | Error) => {
      if (released) return;
      released = true;
      if (destroy || broken) {
        raw.release(destroy instanceof Error ? destroy : true);
        return;
      }
      // Nothing of this step's session reaches the next user of the connection.
      void (async () => {
        try {
          if (inTransaction) await rawQuery('rollback');
          await rawQuery('discard all');
          raw.release();
        } catch (error) {
          raw.release(error instanceof Error ? error : true);
        }
      })();
    };

    return new Proxy(raw, {
      get(target, property, receiver) {
        if (property === 'query') return query;
        if (property === 'release') return release;
        if (property === PLATFORM_LOCK) return platformLock;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
  }

  return {
    defaultSchema: options.defaultSchema,
    ...(options.branch ? { branch: options.branch } : {}),
    owners,
    connect: () => connect(),
    async trySpare() {
      const spare = options.spare;
      if (!spare) return undefined;
      const { pool: sparePool, held } = spare;
      const max = sparePool.options.max ?? 10;
      const free = sparePool.idleCount > 0 || sparePool.totalCount < max;
      const mine = held.get(options.project) ?? 0;
      if (!free || sparePool.waitingCount > 0 || mine >= spare.perProject) return undefined;
      held.set(options.project, mine + 1);
      let client: pg.PoolClient;
      try {
        client = await connect(sparePool);
      } catch {
        held.set(options.project, (held.get(options.project) ?? 1) - 1);
        return undefined;
      }
      let given = false;
      // Counted back once, however the connection is released.
      const release = (destroy?: boolean | Error) => {
        if (!given) {
          given = true;
          held.set(options.project, (held.get(options.project) ?? 1) - 1);
        }
        client.release(destroy);
      };
      return new Proxy(client, {
        get: (target, property, receiver) =>
          property === 'release' ? release : (Reflect.get(target, property, receiver) as unknown),
      });
    },
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      const client = await connect();
      try {
        return (await client.query<R>(text, values)) as pg.QueryResult<R>;
      } finally {
        client.release();
      }
    },
    async cancel(client) {
      const pid = (client as unknown as { processID?: number }).processID;
      // The runner's own session may cancel its own backends; a project role cannot.
      if (pid) await pool.query('select pg_cancel_backend($1)', [pid]).catch(() => {});
    },
    ensureSchema: options.ensureSchema,
    async canRead(table) {
      const client = await connect();
      try {
        const usage = await client.query<{ ok: boolean }>(
          `select has_schema_privilege(current_user, $1, 'USAGE') as ok`,
          [table.schema],
        );
        if (!usage.rows[0]!.ok) return false;
        const { rows } = await client.query<{ ok: boolean | null }>(
          `select has_table_privilege(current_user, to_regclass($1), 'SELECT') as ok`,
          [`${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.table)}`],
        );
        return rows[0]!.ok === true;
      } catch (error) {
        // A schema that does not exist is not readable either.
        if ((error as { code?: string }).code === '3F000') return false;
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

function isQueryConfig(value: unknown): value is { text: string; values?: unknown[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { text?: unknown }).text === 'string' &&
    typeof (value as { submit?: unknown }).submit !== 'function'
  );
}
