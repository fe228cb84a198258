// Validate without saving, as the builder calls it while the user edits: what the compiler finds,
// every problem in the document's SQL located by line and column and, where the inputs' columns
// are known (a run kept them, or they are inferred), unknown tables and columns the same way.
import { describeSql, SqlDescribeError, type ColumnInfo, type DescribeContext } from '@tributary/activities';
import type { NodeCatalog } from '../compiler/compile.js';
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
   * When the caller may read the project: the document as parsed, its nodes' output schemas and
   * how to describe a query under the project's role. Without, SQL is checked by the parser only.
   */
  schemas?: {
    pipeline: Pipeline;
    nodes: Record<string, NodeSchema>;
    describeContext: DescribeContext;
  };
}

export async function validateDocument(document: unknown, options: ValidateOptions): Promise<Validity> {
  const compiled = validity(document, options.catalog, options.knownSecrets);
  const fields = sqlFieldsOf(document, options.catalog);
  const errors = [...compiled.errors];
  const located = await sqlStaticErrors(fields);
  errors.push(...located);
  if (options.schemas) {
    // A field the compiler or the parser already faults (a placeholder of no input, say) is not described.
    const faulty = new Set(errors.map((e) => e.path));
    errors.push(
      ...(await nameErrors(
        fields.filter((f) => !faulty.has(f.path)),
        options.schemas,
      )),
    );
  }
  return { valid: errors.length === 0, errors };
}

/**
 * The schemas validate checks names against, for a caller who may read the document's project:
 * none for a malformed document, a project that does not exist or a server without a runner pool.
 * Runs' kept outputs count when the document is an edit of a stored pipeline of that project.
 */
export async function schemasForValidation(
  deps: DocumentSchemaDeps & { projects: ProjectStore },
  document: unknown,
): Promise<ValidateOptions['schemas']> {
  const parsed = PipelineSchema.safeParse(document);
  if (!parsed.success || !deps.describe) return undefined;
  const pipeline = parsed.data;
  if (!(await deps.projects.get(pipeline.project))) return undefined;
  const stored = await deps.pipelines.get(pipeline.id);
  const nodes = await documentSchemas(
    deps,
    pipeline,
    stored?.project === pipeline.project ? pipeline.id : undefined,
  );
  return { pipeline, nodes, describeContext: describeContextFor(deps.describe, pipeline) };
}

/** Each query described over its node's inputs, when all their columns are known. */
async function nameErrors(
  fields: ReturnType<typeof sqlFieldsOf>,
  schemas: NonNullable<ValidateOptions['schemas']>,
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
