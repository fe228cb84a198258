// sink.csv: writes the input table to a CSV file in the data directory. Postgres formats the rows
// (COPY ... TO STDOUT) and they stream to a temporary file beside the target, which is synced and
// then renamed over it: a reader sees the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { z } from 'zod';
import { configError, StepError } from '../../errors.js';
import { fileDataset, defineNodeType, type StepContext } from '../../node-type.js';
import { quoteTable } from '../../sql.js';
import { csvChar } from '../../source/csv/csv-format.js';
import { templateParams } from '../../source/http/http-client.js';

const ConfigSchema = z.object({
  path: z
    .string()
    .min(1)
    .describe(
      'File to write, relative to the data directory; may use {{ params.<name> }}; missing folders are created',
    )
    .meta({ 'x-widget': 'path' }),
  delimiter: csvChar.default(',').describe('Character between fields, e.g. "," or ";" or a tab'),
  header: z.boolean().default(true).describe('Write the column names as the first line'),
  overwrite: z
    .boolean()
    .default(true)
    .describe(
      'Replace the file if it exists; when off, an existing file fails the step and is left as it is',
    ),
});

export const csvSink = defineNodeType({
  type: 'sink.csv',
  kind: 'sink',
  title: 'CSV file',
  description: 'Writes the input rows to a CSV file in the data directory, replacing it atomically.',
  icon: 'file-text',
  category: 'Files',
  lineage: (config, ctx) => ({ writes: [fileDataset(config, ctx.project)], columns: { from: 'input' } }),
  config: ConfigSchema,
  inputs: { min: 1, max: 1 },
  outsideBranch: (config) =>
    path.isAbsolute(config.path)
      ? `sink.csv writes into branches/<branch>/ of the project's files; give path relative to them, not "${config.path}"`
      : undefined,
  async run(ctx, config, inputs) {
    const input = Object.values(inputs)[0]!;
    const written = templateParams(config.path, ctx.params, 'path');
    // A branch has files of its own beside main's, so main's file is never replaced from a branch.
    const branch = ctx.warehouse.branch;
    // The branch's folder is the root the path is resolved in, so `../..` cannot climb out of it.
    const relative = branch ? path.posix.join('branches', branch.name, written) : written;
    const target = await outputPath(ctx, written);
    const existing = await stat(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing?.isDirectory()) throw configError('path', `"${relative}" is a directory`);
    if (existing && !config.overwrite) throw exists(relative);

    const temp = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    let published = false;
    try {
      const { rows, bytes } = await exportTo(ctx, input, config, temp);
      await publish(temp, target, relative, config.overwrite);
      published = true;
      return { stats: { rowsIn: rows, rowsOut: 0, bytes } };
    } finally {
      if (!published) await unlink(temp).catch(() => {});
    }
  },
});

/** The target's real path; missing parent folders are created, each checked to be inside the step's root. */
async function outputPath(ctx: StepContext, relative: string): Promise<string> {
  await ensureDirectory(ctx, path.dirname(relative));
  return ctx.resolveOutputPath(relative, 'path');
}

async function ensureDirectory(ctx: StepContext, relative: string): Promise<void> {
  let real: string;
  try {
    // Resolves an existing folder, or a missing one whose parent exists (both checked to be inside).
    real = await ctx.resolveOutputPath(relative, 'path');
  } catch (error) {
    if (!(error instanceof StepError && error.kind === 'not_found')) throw error;
    await ensureDirectory(ctx, path.dirname(relative));
    real = await ctx.resolveOutputPath(relative, 'path');
  }
  await mkdir(real, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST' || error.code === 'ENOTDIR') {
      throw configError('path', `"${relative}" is in the way: it is a file, not a folder`);
    }
    throw error;
  });
}

const exists = (relative: string) =>
  configError('path', `"${relative}" already exists and overwrite is off; the file was left as it was`);

/** COPY TO into `file`, synced to disk (flush) before it is published. */
async function exportTo(
  ctx: StepContext,
  input: { schema: string; table: string },
  config: z.infer<typeof ConfigSchema>,
  file: string,
): Promise<{ rows: number; bytes: number }> {
  const options = [
    'format csv',
    `header ${config.header}`,
    `delimiter ${pg.escapeLiteral(config.delimiter)}`,
  ];
  const client = await ctx.warehouse.connect();
  let failed = false;
  try {
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    // `select *` rather than the table name: COPY TO reads a view only through a query.
    const copy = client.query(
      copyTo(`copy (select * from ${quoteTable(input)}) to stdout with (${options.join(', ')})`),
    );
    copy.on('error', () => {}); // the pipeline reports it; this only keeps a late one from crashing
    await pipeline(copy, count, createWriteStream(file, { flags: 'wx', flush: true }), {
      signal: ctx.signal,
    });
    // The next query runs once COPY has completed, and by then its row count is in.
    await client.query('select 1');
    return { rows: copy.rowCount, bytes };
  } catch (error) {
    failed = true;
    if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
    throw error;
  } finally {
    client.release(failed);
  }
}

/** Moves the finished file into place: over the old one, or (overwrite off) only if there is none. */
async function publish(temp: string, target: string, relative: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(temp, target);
  } else {
    // link() fails when the target exists, so a file that appeared meanwhile is not replaced.
    try {
      await link(temp, target);
      await unlink(temp);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw exists(relative);
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code ?? '')) throw error;
      // A file system without hard links: check, then rename (a narrow race instead of none).
      if (
        await stat(target).then(
          () => true,
          () => false,
        )
      )
        throw exists(relative);
      await rename(temp, target);
    }
  }
  // The rename is durable once the folder is synced; where folders cannot be synced, that is moot.
  const dir = await open(path.dirname(target), 'r');
  await dir
    .sync()
    .catch(() => {})
    .finally(() => dir.close());
}
