// What a template's pipeline looks like and what it needs besides its values, read from the
// template itself: its nodes and edges (for a picture of the graph), the secrets it lists, and the
// files its sources read (config fields the node type declares as paths, `x-widget: "path"`).
import { z } from 'zod';
import { activityCatalog } from '../pipelines/node-catalog.js';
import type { LoadedTemplate } from './template.schema.js';

type Kind = 'source' | 'transform' | 'sink';

interface TemplateNode {
  id: string;
  type: string;
  name?: unknown;
  config?: Record<string, unknown>;
}

const WHOLE_PLACEHOLDER = /^\{\{\s*template\.([A-Za-z0-9_-]+)\s*\}\}$/;

const nodesOf = (t: LoadedTemplate) =>
  (Array.isArray(t.pipeline.nodes) ? t.pipeline.nodes : []) as TemplateNode[];

/** The kind a node type declares; a type the catalogue does not know is drawn as a transform. */
function kindOf(type: string): Kind {
  return activityCatalog.get(type)?.kind ?? 'transform';
}

export function templateGraph(t: LoadedTemplate) {
  const edges = (Array.isArray(t.pipeline.edges) ? t.pipeline.edges : []) as { from: string; to: string }[];
  return {
    nodes: nodesOf(t).map((n) => ({
      id: n.id,
      type: n.type,
      kind: kindOf(n.type),
      name: typeof n.name === 'string' ? n.name : null,
    })),
    edges: edges.map((e) => ({ from: e.from, to: e.to })),
  };
}

/** Config fields of a node type declared as file paths (the form's path widget). */
const pathFields = new Map<string, string[]>();
function pathFieldsOf(type: string): string[] {
  let fields = pathFields.get(type);
  if (!fields) {
    const declaration = activityCatalog.get(type);
    fields = [];
    if (declaration) {
      const schema = z.toJSONSchema(declaration.config, { io: 'input', unrepresentable: 'any' }) as {
        properties?: Record<string, { 'x-widget'?: unknown }>;
      };
      fields = Object.entries(schema.properties ?? {})
        .filter(([, p]) => p['x-widget'] === 'path')
        .map(([name]) => name);
    }
    pathFields.set(type, fields);
  }
  return fields;
}

export function templateNeeds(t: LoadedTemplate) {
  const secrets = t.secrets.map((s) => {
    const fallback = t.params.properties[s.param]?.default;
    return {
      param: s.param,
      defaultName: typeof fallback === 'string' ? fallback : null,
      description: s.description,
    };
  });
  // Sinks write files; only what sources read must be there before the first run.
  const files = nodesOf(t).flatMap((n) => {
    if (kindOf(n.type) !== 'source') return [];
    return pathFieldsOf(n.type).flatMap((field) => {
      const value = n.config?.[field];
      if (typeof value !== 'string') return [];
      const param = WHOLE_PLACEHOLDER.exec(value)?.[1] ?? null;
      const property = param ? t.params.properties[param] : undefined;
      const example = param ? (property?.examples?.[0] ?? property?.default) : value;
      return [
        {
          nodeId: n.id,
          nodeType: n.type,
          field,
          param,
          example: typeof example === 'string' ? example : null,
        },
      ];
    });
  });
  return { secrets, files };
}
