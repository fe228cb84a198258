// A project's files folder (`<dataDir>/<project>/`, where file sources read and file sinks write):
// list it, and put a file in it for a template or a pipeline to read. A path is checked before it
// touches the disk: relative, plain names only (no "..", no hidden files), and never out of the
// project's folder, through a symbolic link either; a file is written whole or not at all.
import { lstat, mkdir, readdir, realpath, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The largest file an upload may put (the API's JSON body limit is a little above it). */
export const MAX_FILE_BYTES = 700 * 1024;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class FilePathError extends Error {}

/** The path's segments, or a FilePathError that says what is wrong with it. */
export function checkFilePath(relative: string): string[] {
  if (relative.length === 0 || relative.length > 300) throw new FilePathError('must be 1 to 300 characters');
  if (relative.startsWith('/') || /^[A-Za-z]:/.test(relative) || relative.includes('\\'))
    throw new FilePathError('must be relative to the project\'s files folder, with "/" between folders');
  const segments = relative.split('/');
  if (segments.length > 4) throw new FilePathError('may be at most 4 folders deep');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') throw new FilePathError('may not contain "." or ".." segments');
    if (!SEGMENT.test(segment))
      throw new FilePathError(
        `"${segment}" is not a plain name (letters, digits, ".", "_", "-"; not starting with "." or "-")`,
      );
  }
  return segments;
}

export interface ProjectFile {
  path: string;
  bytes: number;
  modifiedAt: string;
}

const projectFolder = (dataDir: string, project: string) => path.join(dataDir, project);

/** Makes the project's folder (and the data folder) if missing: file sources read from it. */
export async function ensureProjectFolder(dataDir: string, project: string): Promise<string> {
  const folder = projectFolder(dataDir, project);
  await mkdir(folder, { recursive: true });
  return folder;
}

/** Writes `content` to `relative` in the project's folder, replacing a file there, atomically. */
export async function putProjectFile(
  dataDir: string,
  project: string,
  relative: string,
  content: Buffer,
): Promise<ProjectFile> {
  const segments = checkFilePath(relative);
  if (content.byteLength > MAX_FILE_BYTES)
    throw new FilePathError(`is ${content.byteLength} bytes; a file may be at most ${MAX_FILE_BYTES} bytes`);
  const root = await realpath(await ensureProjectFolder(dataDir, project));
  const target = path.join(root, ...segments);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  // A folder on the way may be a link someone made to elsewhere: what the path reaches must be inside.
  const realParent = await realpath(parent);
  if (realParent !== root && !realParent.startsWith(root + path.sep))
    throw new FilePathError("leads out of the project's files folder");
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !existing.isFile()) throw new FilePathError('names a folder or a link, not a file');
  const temporary = path.join(realParent, `.upload-${process.pid}-${Date.now()}-${path.basename(target)}`);
  await writeFile(temporary, content, { mode: 0o644 });
  await rename(temporary, target);
  const written = await stat(target);
  return { path: segments.join('/'), bytes: written.size, modifiedAt: written.mtime.toISOString() };
}

/** The files in the project's folder (up to 4 folders deep, hidden ones left out), by path. */
export async function listProjectFiles(dataDir: string, project: string): Promise<ProjectFile[]> {
  const root = await ensureProjectFolder(dataDir, project);
  const found: ProjectFile[] = [];
  const walk = async (folder: string, prefix: string[], depth: number) => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() && depth < 4) await walk(full, [...prefix, entry.name], depth + 1);
      else if (entry.isFile()) {
        const info = await stat(full);
        found.push({
          path: [...prefix, entry.name].join('/'),
          bytes: info.size,
          modifiedAt: info.mtime.toISOString(),
        });
      }
    }
  };
  await walk(root, [], 1);
  return found.sort((a, b) => a.path.localeCompare(b.path)).slice(0, 1000);
}
