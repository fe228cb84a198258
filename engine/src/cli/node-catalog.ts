// The CLI's node catalogue is the platform's one (pipelines/node-catalog.ts), imported without
// platform.ts, which loads the Temporal client and pg (over a second of start-up on every command,
// for nothing: the CLI never talks to Temporal).
export { activityCatalog as nodeCatalog } from '../pipelines/node-catalog.js';
