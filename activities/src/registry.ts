// The explicit list of node types. A node type exists when it is listed here, and only then.
import type { NodeTypeDeclaration } from './node-type.js';
import { generateSource } from './source/generate/generate.source.js';

export const registry: readonly NodeTypeDeclaration[] = [generateSource] as NodeTypeDeclaration[];

const byType = new Map(registry.map((d) => [d.type, d]));

export function getNodeType(type: string): NodeTypeDeclaration | undefined {
  return byType.get(type);
}
