// `<dir>/.tributary/state.json`: what `pull` (and each `push`) last saw of every pipeline on the
// server. Push sends the recorded version as If-Match, so a save made on the server in between is
// found instead of overwritten. Commit it with the files: CI pushes from it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

export interface PulledPipeline {
  version: number;
  versionHash: string;
  /** contentHash() of the document at that version: local edits show as a different hash. */
  contentHash: string;
  savedBy: string;
  savedAt: string;
}

export interface State {
  server: string;
  project: string;
  branch: string | null;
  pipelines: Record<string, PulledPipeline>;
}

export const statePath = (dir: string) => path.join(dir, '.tributary', 'state.json');

export async function readState(dir: string): Promise<State> {
  const file = statePath(dir);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as State;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(
        `${path.resolve(dir)} is not a pulled folder (no ${path.relative(dir, file)}); run \`tributary pull --project P --dir ${dir}\` first`,
        EXIT.usage,
      );
    }
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
}

export async function writeState(dir: string, state: State): Promise<void> {
  const file = statePath(dir);
  await mkdir(path.dirname(file), { recursive: true });
  const pipelines = Object.fromEntries(
    Object.entries(state.pipelines).sort(([a], [b]) => a.localeCompare(b)),
  );
  await writeFile(file, `${JSON.stringify({ ...state, pipelines }, null, 2)}\n`);
}
