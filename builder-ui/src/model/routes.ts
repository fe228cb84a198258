// A deciding node's outputs from its declaration's data (the connector's `routes`) and its config:
// the keys of a config list's items (a switch's case names), then the fixed outputs. Pure; the
// engine computes the same in activities/src/node-type.ts (routesOf).
export interface RouteOutputs {
  list?: { field: string; key: string };
  outputs: string[];
}

export function routesOf(spec: RouteOutputs, config: unknown): string[] {
  const items = spec.list ? (config as Record<string, unknown> | null)?.[spec.list.field] : undefined;
  const listed = Array.isArray(items)
    ? items.flatMap((item) => {
        const name = (item as Record<string, unknown> | null)?.[spec.list!.key];
        return typeof name === 'string' && name ? [name] : [];
      })
    : [];
  return [...listed, ...spec.outputs];
}
