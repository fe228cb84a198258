// Offline validation of a pipeline folder: the engine's own compiler, the connectors' schemas and
// the Postgres parser for SQL, with each error traced back to the file, line, node and field a
// person has to edit.
import { compile } from '../compiler/compile.js';
import { sqlErrors } from '../pipelines/sql-checks.js';
import { nodeCatalog } from './node-catalog.js';
import { PIPELINE_FILE, type FileProblem, type LocalPipeline } from './pipeline-files.js';
import path from 'node:path';

export interface ValidationProblem extends FileProblem {
  code?: string;
}

/** `nodes[1].config.rows` → `config.rows`: the field as it reads inside the node. */
function fieldOf(documentPath: string | undefined): string | undefined {
  const match = documentPath?.match(/^nodes\[\d+\]\.?(.*)$/);
  return match ? match[1] || undefined : documentPath;
}

export async function validateLocal(local: LocalPipeline, project?: string): Promise<ValidationProblem[]> {
  if (!local.document) return local.problems;
  const problems: ValidationProblem[] = [...local.problems];
  const yamlFile = path.join(local.folder, PIPELINE_FILE);
  if (local.document.id !== local.folder) {
    problems.push({
      file: yamlFile,
      ...(local.lineOf('id') ? { line: local.lineOf('id')! } : {}),
      field: 'id',
      message: `id is "${String(local.document.id)}", but the folder is "${local.folder}"; the folder must be named after the pipeline`,
    });
  }
  if (project !== undefined && (local.document.project ?? 'default') !== project) {
    problems.push({
      file: yamlFile,
      ...(local.lineOf('project') ? { line: local.lineOf('project')! } : {}),
      field: 'project',
      message: `project is "${String(local.document.project ?? 'default')}", but this folder was pulled from project "${project}"`,
    });
  }
  // A SQL file that could not be read is already reported; compiling would only add "expected string".
  if (local.problems.length > 0) return problems;
  const result = compile(local.document, { catalog: nodeCatalog, requireParams: false });
  // SQL as the Postgres parser reads it; in a .sql file the error's line is that file's line.
  const errors = [...(result.ok ? [] : result.errors), ...(await sqlErrors(local.document, nodeCatalog))];
  for (const error of errors) {
    const at = error.path ?? '';
    const inSqlFile = local.fileOf(at).endsWith('.sql');
    const line = inSqlFile && error.line !== undefined ? error.line : local.lineOf(at);
    const field = fieldOf(error.path);
    problems.push({
      file: local.fileOf(at),
      ...(line ? { line } : {}),
      ...(error.nodeId ? { nodeId: error.nodeId } : {}),
      ...(field ? { field } : {}),
      code: error.code,
      message: error.message,
    });
  }
  return problems;
}

/** `daily/clean.sql: node "clean", field config.sql: …` — where to look first, then what is wrong. */
export function formatProblem(p: FileProblem): string {
  const where = [p.nodeId ? `node "${p.nodeId}"` : '', p.field ? `field ${p.field}` : ''].filter(Boolean);
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${where.length ? `${where.join(', ')}: ` : ''}${p.message}`;
}
