// The compiler's node catalogue for the CLI: the activities registry, the same as platform.ts's
// `nodeCatalog`, without importing platform.ts, which loads the Temporal client and pg (over a second
// of start-up on every command, for nothing: the CLI never talks to Temporal).
import { getNodeType } from '@tributary/activities';
import type { NodeCatalog } from '../compiler/compile.js';

export const nodeCatalog: NodeCatalog = { get: getNodeType };
