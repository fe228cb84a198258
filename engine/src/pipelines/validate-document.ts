// Validate without saving, as the builder calls it while the user edits: what the compiler finds,
// every problem in the document's SQL located by line and column and, where the inputs' columns
// are known (a run kept them, or they are inferred), unknown tables and columns the same way.
import { describeSql, SqlDescribeError, type ColumnInfo, type DescribeContext } from '@tributary/activities';
import type pg from 'pg';
import { parseNodeConfigs, type NodeCatalog, type NodeConfigs } from '../compiler/compile.js';
import { checkConnectorConfigs } from '../connectors/connector-config-check.js';
import type { CompileError } from '../compiler/errors.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import type { ProjectStore } from '../store/projects.store.js';
import { describeContextFor } from './describe-context.js';
import { documentSchemas, type DocumentSchemaDeps, type NodeSchema } from './output-schemas.js';
import { validity, type Validity } from './pipeline-compile.js';
import { sqlError, sqlFieldsOf, sqlStaticErrors } from './sql-checks.js';

export interface ValidateOptions {
  catalog: NodeCatalog;
  /** The project's secret names, when the caller may know them. */
  knownSecrets?: readonly string[];
  /**
   * When the caller may read the document's project: what finds its nodes' output schemas, so each
   * query is described under the project's role. Without, SQL is checked by the parser only.
   */
  schemaDeps?: DocumentSchemaDeps & { projects: ProjectStore };
  /** Where connectors' specs are cached: Python connector nodes' configs are checked against them. */
  specs?: pg.Pool;
}

export async function validateDocument(document: unknown, options: ValidateOptions): Promise<Validity> {
  // Each node's config is parsed once, here: the compiler and the describing of nodes both use it.
  const parsed = PipelineSchema.safeParse(document);
  const configs = parsed.success ? parseNodeConfigs(parsed.data, options.catalog) : undefined;
  const compiled = validity(document, options.catalog, options.knownSecrets, configs);
  const fields = sqlFieldsOf(document, options.catalog);
  const errors = [...compiled.errors];
  const located = await sqlStaticErrors(fields);
  errors.push(...located);
  const connectors = options.specs
    ? await checkConnectorConfigs(options.specs, options.catalog, document)
    : undefined;
  errors.push(...(connectors?.errors ?? []));
  const schemas =
    options.schemaDeps && parsed.success
      ? await schemasForValidation(options.schemaDeps, parsed.data, configs)
      : undefined;
  if (schemas) {
    // A field the compiler or the parser already faults (a placeholder of no input, say) is not described.
    const faulty = new Set(errors.map((e) => e.path));
    errors.push(
      ...(await nameErrors(
        fields.filter((f) => !faulty.has(f.path)),
        schemas,
      )),
    );
  }
  return {
    valid: errors.length === 0,
    errors,
    ...(connectors?.notes.length ? { notes: connectors.notes } : {}),
  };
}

interface ValidationSchemas {
  pipeline: Pipeline;
  nodes: Record<string, NodeSchema>;
  describeContext: DescribeContext;
}

/**
 * The schemas validate checks names against, for a caller who may read the document's project:
 * none for a project that does not exist or a server without a runner pool. Runs' kept outputs
 * count when the document is an edit of a stored pipeline of that project.
 */
async function schemasForValidation(
  deps: DocumentSchemaDeps & { projects: ProjectStore },
  pipeline: Pipeline,
  configs: NodeConfigs | undefined,
): Promise<ValidationSchemas | undefined> {
  if (!deps.describe) return undefined;
  if (!(await deps.projects.get(pipeline.project))) return undefined;
  const stored = await deps.pipelines.get(pipeline.id);
  const nodes = await documentSchemas(
    deps,
    pipeline,
    stored?.project === pipeline.project ? pipeline.id : undefined,
    configs,
  );
  return { pipeline, nodes, describeContext: describeContextFor(deps.describe, pipeline) };
}

/** Each query described over its node's inputs, when all their columns are known. */
async function nameErrors(
  fields: ReturnType<typeof sqlFieldsOf>,
  schemas: ValidationSchemas,
): Promise<CompileError[]> {
  const { pipeline, nodes, describeContext } = schemas;
  const results = await Promise.all(
    fields.map(async (field) => {
      const inputs: Record<string, ColumnInfo[]> = {};
      for (const edge of pipeline.edges) {
        if (edge.to !== field.nodeId) continue;
        const columns = nodes[edge.from]?.columns;
        if (!columns) return []; // an input of unknown columns: nothing to check names against
        inputs[edge.from] = columns;
      }
      try {
        await describeSql(describeContext, field.sql, inputs);
        return [];
      } catch (error) {
        // Anything else (the warehouse unreachable, say) is not the document's fault.
        return error instanceof SqlDescribeError ? [sqlError(field, error.problem, error.code)] : [];
      }
    }),
  );
  return results.flat();
}
