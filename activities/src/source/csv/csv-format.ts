// The small part of CSV parsing done in JavaScript: the header and a sample of the first rows, read
// with Postgres's own CSV rules (COPY ... FORMAT csv), so that the names and types chosen here match
// what COPY then does with the same bytes. The bulk of the file is parsed by Postgres, never here.
import { z } from 'zod';

/** A delimiter or quote: COPY takes one single-byte character, and a line break cannot be one. */
export const csvChar = z
  .string()
  .length(1, 'must be one character')
  .refine(
    (c) => c.charCodeAt(0) < 128 && c !== '\n' && c !== '\r' && c !== '\0',
    'must be one ASCII character other than a line break',
  );

export interface CsvDialect {
  delimiter: string;
  quote: string;
  /** Unquoted text that stands for NULL (Postgres's NULL option). */
  nullString: string;
}

export interface CsvRecord {
  /** A field is null when it was unquoted and equal to the dialect's null string. */
  fields: (string | null)[];
  /** The file line the record starts on (1-based). */
  line: number;
}

export interface ParsedHead {
  records: CsvRecord[];
  /** Set when the text ended inside a quoted field: the line the quote opened on. */
  unterminatedQuoteLine?: number;
}

/**
 * Parses complete records from the start of a CSV text. With `final` false the text is a prefix of
 * the file, so a record not yet ended by a newline is left out; with `final` true the text is the
 * whole file. Like Postgres (ESCAPE = QUOTE), a quote anywhere in a field opens quoting, and a
 * doubled quote inside quotes is a literal quote.
 */
export function parseHead(
  text: string,
  dialect: CsvDialect,
  options: { final: boolean; maxRecords: number },
): ParsedHead {
  const { delimiter, quote } = dialect;
  const records: CsvRecord[] = [];
  let fields: (string | null)[] = [];
  let field = '';
  let quoted = false;
  let inQuote = false;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 0;
  const value = () => (!quoted && field === dialect.nullString ? null : field);
  const endField = () => {
    fields.push(value());
    field = '';
    quoted = false;
  };

  let i = 0;
  const n = text.length;
  while (i < n && records.length < options.maxRecords) {
    const c = text[i]!;
    if (inQuote) {
      if (c === quote) {
        if (i + 1 >= n && !options.final) break; // an escaped quote or the closing one: not known yet
        if (text[i + 1] === quote) {
          field += quote;
          i += 2;
        } else {
          inQuote = false;
          i++;
        }
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === quote) {
      inQuote = true;
      quoted = true;
      quoteLine = line;
    } else if (c === delimiter) {
      endField();
    } else if (c === '\n' || c === '\r') {
      endField();
      records.push({ fields, line: recordLine });
      fields = [];
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      recordLine = line;
    } else {
      field += c;
    }
    i++;
  }
  const atEnd = options.final && i >= n;
  if (atEnd && inQuote) return { records, unterminatedQuoteLine: quoteLine };
  // The last record of a file without a final newline.
  if (atEnd && (fields.length > 0 || field !== '' || quoted)) {
    endField();
    records.push({ fields, line: recordLine });
  }
  return { records };
}

/**
 * Finds the line of a quoted field that is never closed, reading the whole (UTF-8) file. Postgres
 * reports such an error at the end of the file, which is not where the user has to look.
 */
export async function findUnterminatedQuote(
  chunks: AsyncIterable<Buffer>,
  quote: string,
): Promise<number | undefined> {
  const q = quote.charCodeAt(0);
  const NL = 10;
  let line = 1;
  let inQuote = false;
  let closing = false; // a quote inside quotes: closes unless the next byte is another quote
  let openedOn = 0;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (inQuote) {
        if (closing) {
          closing = false;
          if (b === q) continue;
          inQuote = false;
        } else {
          if (b === q) closing = true;
          else if (b === NL) line++;
          continue;
        }
      }
      if (b === q) {
        inQuote = true;
        openedOn = line;
      } else if (b === NL) {
        line++;
      }
    }
  }
  return inQuote && !closing ? openedOn : undefined;
}

// ---------------------------------------------------------------------------------------------
// Column types

export const COLUMN_TYPES = [
  'text',
  'integer',
  'bigint',
  'numeric',
  'double',
  'boolean',
  'date',
  'timestamp',
  'timestamptz',
  'jsonb',
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const SQL_TYPE: Record<ColumnType, string> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  numeric: 'numeric',
  double: 'double precision',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
};

export type InferredType = 'bigint' | 'numeric' | 'boolean' | 'date' | 'timestamp' | 'timestamptz' | 'text';

// Only forms that Postgres reads the same way whatever its DateStyle, and that a person would read
// as that type too: integers with leading zeros (zip codes, ids) stay text, and so does "yes"/"no".
const INTEGER = /^[+-]?(0|[1-9][0-9]*)$/;
const DECIMAL = /^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$/;
const BOOLEAN = /^(true|false|t|f)$/i;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIMESTAMP =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$/;
const BIGINT_MAX = 9223372036854775807n;
const BIGINT_MIN = -9223372036854775808n;

function isRealDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return y >= 1 && days !== undefined && d >= 1 && d <= days;
}

/** The narrowest type one value fits. */
export function valueType(value: string): InferredType {
  if (INTEGER.test(value)) {
    const n = BigInt(value);
    return n >= BIGINT_MIN && n <= BIGINT_MAX ? 'bigint' : 'numeric';
  }
  if (DECIMAL.test(value)) return 'numeric';
  if (BOOLEAN.test(value)) return 'boolean';
  let m = DATE.exec(value);
  if (m) return isRealDate(m[1]!, m[2]!, m[3]!) ? 'date' : 'text';
  m = TIMESTAMP.exec(value);
  if (m) {
    const [, y, mo, d, h, mi, s, zone] = m;
    const timeOk = Number(h) < 24 && Number(mi) < 60 && (s === undefined || Number(s) < 60);
    if (!timeOk || !isRealDate(y!, mo!, d!)) return 'text';
    return zone ? 'timestamptz' : 'timestamp';
  }
  return 'text';
}

/**
 * The type both fit: integers widen to numeric and dates to timestamps. Timestamps with and without
 * an offset do not mix (the zone of the ones without is unknown), so that, like any other mix, is text.
 */
export function joinTypes(a: InferredType, b: InferredType): InferredType {
  if (a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has('bigint') && pair.has('numeric')) return 'numeric';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  return 'text';
}

/** A type per column from sample rows; NULLs say nothing, and a column with no values is text. */
export function inferTypes(rows: (string | null)[][], columnCount: number): InferredType[] {
  const types: (InferredType | undefined)[] = new Array<InferredType | undefined>(columnCount).fill(
    undefined,
  );
  for (const row of rows) {
    for (let i = 0; i < columnCount; i++) {
      const value = row[i];
      if (value === null || value === undefined) continue;
      const current = types[i];
      if (current === 'text') continue;
      const type = valueType(value);
      types[i] = current === undefined ? type : joinTypes(current, type);
    }
  }
  return types.map((t) => t ?? 'text');
}

// ---------------------------------------------------------------------------------------------
// Column names

/** Postgres keeps the first 63 bytes of an identifier (NAMEDATALEN - 1), cut on a character. */
export const MAX_IDENTIFIER_BYTES = 63;

export function truncateIdentifier(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES) return name;
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > MAX_IDENTIFIER_BYTES) break;
    out += ch;
  }
  return out;
}

export type NameProblem =
  { kind: 'empty'; position: number } | { kind: 'duplicate'; position: number; first: number; name: string };

/** The first empty or repeated name (as Postgres will store it), by 1-based position. */
export function findNameProblem(names: readonly (string | null)[]): NameProblem | undefined {
  const seen = new Map<string, number>();
  for (const [i, raw] of names.entries()) {
    if (raw === null || raw === '') return { kind: 'empty', position: i + 1 };
    const name = truncateIdentifier(raw);
    const first = seen.get(name);
    if (first !== undefined) return { kind: 'duplicate', position: i + 1, first, name };
    seen.set(name, i + 1);
  }
  return undefined;
}
