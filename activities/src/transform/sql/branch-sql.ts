// transform.sql in a development branch: a table named with its schema (`sales.orders`) is read from
// the branch's copy (`sales__dev.orders`) when the branch has written one, else from main's. The
// Postgres parser finds the names; each rewrite is recorded like a placeholder's, so positions of
// errors still point into the SQL the user wrote. Unqualified names need no rewrite: the branch's
// search_path has its copy of the project's schema first.
import { parse } from 'libpg-query';
import { quoteIdent } from '../../sql.js';
import { byteToIndex, toSourceIndex, type RenderedSql, type Replacement } from './render-sql.js';

interface RangeVar {
  catalogname?: string;
  schemaname?: string;
  relname?: string;
  location?: number;
}

/** An identifier at the start of `text`: `"Quoted ""x"""` or a bare word. */
const IDENTIFIER = /^(?:"(?:[^"]|"")*"|[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)/;

/**
 * Rewrites schema names of tables the branch has a copy of. `copyOf` answers the branch schema
 * that holds `schema.table`, or undefined to read main's table.
 */
export async function redirectToBranch(
  rendered: RenderedSql,
  copyOf: (table: { schema: string; table: string }) => Promise<string | undefined>,
): Promise<RenderedSql> {
  const tree = (await parse(rendered.text)) as unknown;
  const refs = collectRangeVars(tree).filter(
    (r) => r.schemaname && r.relname && !r.catalogname && r.location !== undefined && r.location >= 0,
  );
  const splices: { index: number; length: number; text: string }[] = [];
  for (const ref of refs) {
    const index = byteToIndex(rendered.text, ref.location!);
    const token = IDENTIFIER.exec(rendered.text.slice(index))?.[0];
    if (!token) continue;
    const written = token.startsWith('"') ? token.slice(1, -1).replace(/""/g, '"') : token.toLowerCase();
    // The name at that position must be the schema itself (not a placeholder's table or a comment).
    if (written !== ref.schemaname || rendered.text.charAt(index + token.length) !== '.') continue;
    const branchSchema = await copyOf({ schema: ref.schemaname!, table: ref.relname! });
    if (branchSchema) splices.push({ index, length: token.length, text: quoteIdent(branchSchema) });
  }
  if (splices.length === 0) return rendered;
  splices.sort((a, b) => a.index - b.index);

  // Splice the text, and shift every recorded replacement by the splices before it.
  let text = '';
  let copied = 0;
  const added: Replacement[] = [];
  const shiftAt = (index: number) =>
    splices.filter((s) => s.index < index).reduce((sum, s) => sum + s.text.length - s.length, 0);
  for (const s of splices) {
    text += rendered.text.slice(copied, s.index);
    added.push({
      kind: 'table',
      name: s.text,
      sourceIndex: toSourceIndex(rendered, s.index),
      sourceLength: s.length,
      index: text.length,
      length: s.text.length,
    });
    text += s.text;
    copied = s.index + s.length;
  }
  text += rendered.text.slice(copied);
  const moved = rendered.replacements.map((r) => ({
    ...r,
    index: r.index + shiftAt(r.index),
    ...(r.paramIndex !== undefined ? { paramIndex: r.paramIndex + shiftAt(r.paramIndex) } : {}),
  }));
  return { ...rendered, text, replacements: [...moved, ...added].sort((a, b) => a.index - b.index) };
}

function collectRangeVars(node: unknown, found: RangeVar[] = []): RangeVar[] {
  if (Array.isArray(node)) {
    for (const item of node) collectRangeVars(item, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'RangeVar') found.push(value as RangeVar);
      collectRangeVars(value, found);
    }
  }
  return found;
}
