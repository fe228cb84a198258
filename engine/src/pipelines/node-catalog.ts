// The activities registry seen as the compiler's catalogue of node types: what the API compiles
// against unless its dependencies name another catalogue.
import { getNodeType } from '@tributary/activities';
import type { NodeCatalog } from '../compiler/compile.js';

export const activityCatalog: NodeCatalog = { get: getNodeType };
