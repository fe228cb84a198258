// Splits a CSV file into byte ranges that each start at a record, so that parallel COPY streams can
// load one range each. A line break splits records only outside a quoted field; with the quote as its
// own escape (doubled inside a field, the only form source.csv accepts), every quote character
// toggles "inside a field", which is also how Postgres finds the end of a CSV line. So the parity of
// the quotes before a line break says whether it ends a record: one pass of Buffer.indexOf.
import type { FileHandle } from 'node:fs/promises';

const SCAN_CHUNK_BYTES = 4 << 20;
const NEWLINE = 0x0a;

export interface ByteRange {
  /** First byte of the range (a record starts here). */
  start: number;
  /** One past the last byte. */
  end: number;
}

/**
 * Cuts [start, size) into at most `parts` ranges of about equal size, each cut right after a line
 * break outside quotes. Fewer ranges come back when the file has too few record boundaries (a
 * one-line file, a quoted field that runs past every target, a file with `\r` line ends only).
 */
export async function splitOnRecords(
  file: FileHandle,
  options: { start: number; size: number; parts: number; quote: string },
): Promise<ByteRange[]> {
  const { start, size, parts } = options;
  const quote = options.quote.charCodeAt(0);
  const targets: number[] = [];
  for (let k = 1; k < parts; k++) targets.push(start + Math.floor(((size - start) * k) / parts));
  const cuts: number[] = [];
  const buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
  let inQuotes = false;
  let k = 0;
  for (let offset = start; offset < size && k < targets.length;) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, size - offset), offset);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    let at = 0;
    while (at < chunk.length && k < targets.length) {
      const need = targets[k]! - offset;
      if (at < need) {
        // Before the target only the parity matters.
        const stop = Math.min(need, chunk.length);
        for (let q = chunk.indexOf(quote, at); q !== -1 && q < stop; q = chunk.indexOf(quote, q + 1)) {
          inQuotes = !inQuotes;
        }
        at = stop;
        continue;
      }
      const q = chunk.indexOf(quote, at);
      if (inQuotes) {
        if (q === -1) break;
        inQuotes = false;
        at = q + 1;
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, at);
      if (nl !== -1 && (q === -1 || nl < q)) {
        cuts.push(offset + nl + 1);
        at = nl + 1;
        k++;
        continue;
      }
      if (q === -1) break;
      inQuotes = true;
      at = q + 1;
    }
    offset += bytesRead;
  }
  const bounds = [start, ...cuts.filter((cut) => cut < size), size];
  const ranges: ByteRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (bounds[i + 1]! > bounds[i]!) ranges.push({ start: bounds[i]!, end: bounds[i + 1]! });
  }
  return ranges;
}

/** Line breaks in [0, end): the file line a range starts on is this plus one. */
export async function countLines(file: FileHandle, end: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
  let lines = 0;
  for (let offset = 0; offset < end;) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - offset), offset);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
    offset += bytesRead;
  }
  return lines;
}
