// The one node catalogue: the connectors' declarations as the platform sees them. The compiler,
// lineage, the catalog, the sink target view, the API's palette (GET /connectors) and the CLI read
// it; none of them names a connector type. The activities registry is the default; a test may hand
// in a catalogue with a fixture connector added, and finds it everywhere.
import { registry, type NodeTypeDeclaration } from '@tributary/activities';
import type { NodeCatalog } from '../compiler/compile.js';

export interface ConnectorCatalog extends NodeCatalog {
  get(type: string): NodeTypeDeclaration | undefined;
  /** Every declaration, in registry order (the palette's order). */
  list(): readonly NodeTypeDeclaration[];
}

export function catalogOf(declarations: readonly NodeTypeDeclaration[]): ConnectorCatalog {
  const byType = new Map(declarations.map((d) => [d.type, d]));
  return { get: (type) => byType.get(type), list: () => declarations };
}

export const activityCatalog: ConnectorCatalog = catalogOf(registry);
