// A node's pinned requirement set: the package specifiers its Python environment is built from.
// Each line is checked here, before any installer sees it, so a config can never smuggle an
// installer option (`--index-url`, `-e`, a path or a URL) into the build.
import { createHash } from 'node:crypto';
import { configError } from '../errors.js';

// name[extras] followed by zero or more comma-separated version clauses (PEP 508 without markers).
const SPECIFIER =
  /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*\])?\s*((?:===?|~=|!=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+(?:\s*,\s*(?:===?|~=|!=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+)*)?$/;

export interface Requirement {
  /** The line as the installer gets it (whitespace trimmed). */
  line: string;
  /** The normalised project name (PEP 503), for messages and lookups. */
  name: string;
}

export const normaliseName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** Parses and checks a requirement set; `field` names the config field in errors. */
export function parseRequirements(lines: readonly string[], field: string): Requirement[] {
  const seen = new Set<string>();
  return lines.map((raw, index) => {
    const line = raw.trim();
    const match = SPECIFIER.exec(line);
    if (!match) {
      throw configError(
        `${field}.${index}`,
        `"${raw}" is not a package requirement; write name==version (e.g. pandas==2.2.3)`,
      );
    }
    const name = normaliseName(match[1]!);
    if (seen.has(name)) throw configError(`${field}.${index}`, `package "${match[1]}" is listed twice`);
    seen.add(name);
    return { line, name };
  });
}

/** The environment's identity: the same requirements, interpreter and index share one environment. */
export function environmentKey(
  requirements: readonly Requirement[],
  python: string,
  indexUrl: string,
): string {
  const lines = requirements.map((r) => r.line.replace(/\s+/g, '')).sort();
  return createHash('sha256').update(JSON.stringify({ lines, python, indexUrl })).digest('hex').slice(0, 20);
}
