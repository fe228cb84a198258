// Turns an error Postgres raised while COPY was reading a file into one that names the file line and
// column, e.g. `line 5, column "amount": invalid input syntax for type bigint: "abc"`. COPY counts
// physical lines from the top of the input, header included, which is what an editor shows.
import { isPgError } from '../../errors.js';

export interface CopyErrorLocation {
  line: number;
  /** The column Postgres was converting, when the error is about one value. */
  column?: string;
  /** The start of the offending line as Postgres quotes it (at most ~100 bytes), when given. */
  text?: string;
  message: string;
  code: string;
}

// errcontext of COPY FROM: `COPY t, line 5, column c: "v"`, `COPY t, line 5, column c: null input`,
// `COPY t, line 5: "raw line"` or `COPY t, line 5`. Table names are node ids (slugs): no commas.
const WHERE = /^COPY [^,\n]+, line (\d+)(.*)$/ms;

// A terminated backend, a server shutting down, a lost connection, a deadlock or a full disk stop
// COPY at whatever line it had reached: not that line's fault, so not a data error (they are retried).
const INTERRUPTION_CLASSES = ['08', '40', '53', '57', '58'];

export function locateCopyError(error: unknown, columns: readonly string[]): CopyErrorLocation | undefined {
  if (!isPgError(error) || !error.where) return undefined;
  if (INTERRUPTION_CLASSES.some((c) => error.code!.startsWith(c))) return undefined;
  const match = WHERE.exec(error.where);
  if (!match) return undefined;
  const location: CopyErrorLocation = { line: Number(match[1]), message: error.message, code: error.code! };
  const rest = match[2]!;
  if (rest.startsWith(', column ')) {
    const after = rest.slice(', column '.length);
    // Column names may hold ": ", so match the known names, longest first.
    const column = [...columns]
      .sort((a, b) => b.length - a.length)
      .find((c) => after.startsWith(c) && (after.length === c.length || after[c.length] === ':'));
    if (column !== undefined) location.column = column;
  } else if (rest.startsWith(': "')) {
    location.text = rest.slice(3).replace(/"\s*$/, '');
  }
  return location;
}

export function formatCopyError(
  location: Pick<CopyErrorLocation, 'line' | 'column' | 'message' | 'text'>,
): string {
  const where = `line ${location.line}${location.column !== undefined ? `, column "${location.column}"` : ''}`;
  // Postgres quotes the record (cut at ~100 bytes); its first line is enough to find it.
  const excerpt =
    location.column === undefined && location.text !== undefined
      ? ` in ${JSON.stringify(location.text.split(/\r?\n/)[0])}`
      : '';
  return `${where}: ${location.message}${excerpt}`;
}

/** SQLSTATEs of a value that does not fit its column's type (as opposed to a malformed line). */
export const VALUE_ERROR_CODES = new Set([
  '22P02', // invalid_text_representation
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22003', // numeric_value_out_of_range
]);
