// The one transaction helper lives in the activities package, which the engine imports (never the
// other way round): stores and connectors run their transactions the same way.
export { inTransaction, withTransaction, type TransactionOptions } from '@tributary/activities';
