// The explicit list of node types. A node type exists when it is listed here, and only then.
import type { NodeTypeDeclaration } from './node-type.js';
import { ifFlow } from './flow/if/if.flow.js';
import { switchFlow } from './flow/switch/switch.flow.js';
import { csvSink } from './sink/csv/csv.sink.js';
import { postgresSink } from './sink/postgres/postgres.sink.js';
import { webhookSink } from './sink/webhook/webhook.sink.js';
import { airbyteSource } from './source/airbyte/airbyte.source.js';
import { csvSource } from './source/csv/csv.source.js';
import { generateSource } from './source/generate/generate.source.js';
import { httpSource } from './source/http/http.source.js';
import { jsonSource } from './source/json/json.source.js';
import { postgresSource } from './source/postgres/postgres.source.js';
import { singerSource } from './source/singer/singer.source.js';
import { tableSource } from './source/table/table.source.js';
import { assertTransform } from './transform/assert/assert.transform.js';
import { pythonTransform } from './transform/python/python.transform.js';
import { sqlTransform } from './transform/sql/sql.transform.js';

export const registry: readonly NodeTypeDeclaration[] = [
  generateSource,
  csvSource,
  jsonSource,
  httpSource,
  postgresSource,
  tableSource,
  airbyteSource,
  singerSource,
  sqlTransform,
  assertTransform,
  pythonTransform,
  postgresSink,
  csvSink,
  webhookSink,
  ifFlow,
  switchFlow,
] as NodeTypeDeclaration[];

const byType = new Map(registry.map((d) => [d.type, d]));

export function getNodeType(type: string): NodeTypeDeclaration | undefined {
  return byType.get(type);
}
