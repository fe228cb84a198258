// The activities package: node type declarations, their registry, and the activity factory.
export * from './node-type.js';
export * from './step-activity.js';
export * from './config-schema.js';
export * from './transaction.js';
export * from './placeholders.js';
export * from './errors.js';
export * from './sql.js';
export { registry, getNodeType } from './registry.js';
export { checkSql } from './transform/sql/check-sql.js';
export { describeSql, SqlDescribeError } from './transform/sql/describe-sql.js';
export type {
  ColumnLineageOptions,
  ColumnSource,
  DirectTransformation,
  IndirectSource,
  IndirectSubtype,
  OutputColumn,
} from './transform/sql/column-lineage.js';
export { formatSqlProblem, type SqlProblem } from './transform/sql/render-sql.js';
export { signPayload } from './sink/webhook/sign.js';
export {
  createActivities,
  resolveInside,
  resolveProjectPath,
  type ActivityDeps,
  type AttemptFailure,
  type StepActivityFn,
} from './create-activities.js';
export {
  projectWarehouse,
  type ProjectWarehouse,
  type ProjectWarehouseOptions,
  type SparePool,
} from './warehouse/project-warehouse.js';
export * from './warehouse/schema-owners.js';
export {
  addressRefusal,
  checkUrl,
  effectiveAddress,
  EGRESS_ALLOW_VARIABLE,
  EgressRefused,
  fencedFetch,
  fencedPgStream,
  parseEgressAllow,
  resolveEgress,
  withReservedEndpoints,
  type EgressPolicy,
  type ReservedEndpoint,
} from './egress/egress-fence.js';
export { columnLineage, type ColumnLineage, type RelationRef } from './transform/sql/column-lineage.js';
export { LEDGER_DDL } from './sink/postgres/postgres.sink.js';
export * from './warehouse/branch-schemas.js';
export {
  checkCondition,
  conditionReads,
  ConditionError,
  evaluateCondition,
  parseCondition,
  STEP_FACTS,
  type ConditionScope,
  type Expr,
  type FactSpec,
  type Value,
  type ValueType,
} from './flow/condition.js';
export type {
  ConnectorProbe,
  ConnectorSpec,
  DiscoveredStream,
  ProbeRequest,
  ProbeResult,
} from './python/connector-probe.js';
export { createProbeActivities, PROBE_ACTIVITY, type ProbeActivities } from './python/probe-activity.js';
export { checkAgainstSpec, formSpec, type SpecProblem } from './python/spec-check.js';
// The worker's warm Python standbys: ended on worker shutdown.
export { standbys as pythonStandbys, type StandbySettings } from './python/standby.js';
