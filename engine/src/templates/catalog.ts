// The template catalogue: every `templates/<id>/` folder, parsed and checked once per process; a
// template that fails its checks is left out (with its problems), so one broken folder cannot hurt the rest.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTemplate } from './check-template.js';
import { TemplateSchema, type LoadedTemplate, type TemplateCategory } from './template.schema.js';

/** The repository's templates folder. */
export const TEMPLATES_DIR = path.resolve(fileURLToPath(new URL('../../../templates', import.meta.url)));

export interface TemplateCatalog {
  /** Valid templates, by id. */
  templates: Map<string, LoadedTemplate>;
  /** Folders that were left out, with why. */
  problems: { folder: string; problems: string[] }[];
  get(id: string): LoadedTemplate | undefined;
  list(filter?: { category?: TemplateCategory; q?: string }): LoadedTemplate[];
}

/** Reads one template folder: its parsed template.json and README, or the problems with them. */
export function readTemplateFolder(
  dir: string,
): { template: LoadedTemplate; problems: string[] } | { template?: undefined; problems: string[] } {
  const folder = path.basename(dir);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path.join(dir, 'template.json'), 'utf8'));
  } catch (error) {
    return { problems: [`template.json cannot be read: ${(error as Error).message}`] };
  }
  const parsed = TemplateSchema.safeParse(json);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((i) => `template.json ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const readmeFile = path.join(dir, 'README.md');
  const readme = existsSync(readmeFile) ? readFileSync(readmeFile, 'utf8') : '';
  const problems = readme ? checkTemplate(parsed.data, readme, folder) : ['README.md is missing'];
  return { template: { ...parsed.data, readme, dir }, problems };
}

const matches = (template: LoadedTemplate, q: string) => {
  const needle = q.toLowerCase();
  return [template.id, template.title, template.description, ...template.tags].some((text) =>
    text.toLowerCase().includes(needle),
  );
};

export function loadTemplateCatalog(dir = TEMPLATES_DIR): TemplateCatalog {
  const templates = new Map<string, LoadedTemplate>();
  const problems: TemplateCatalog['problems'] = [];
  const folders = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'template.json')))
        .map((e) => e.name)
        .sort()
    : [];
  for (const folder of folders) {
    const read = readTemplateFolder(path.join(dir, folder));
    if (read.template && read.problems.length === 0) templates.set(read.template.id, read.template);
    else problems.push({ folder, problems: read.problems });
  }
  return {
    templates,
    problems,
    get: (id) => templates.get(id),
    list: (filter = {}) =>
      [...templates.values()].filter(
        (t) => (!filter.category || t.category === filter.category) && (!filter.q || matches(t, filter.q)),
      ),
  };
}

const catalogs = new Map<string, TemplateCatalog>();

/** The catalogue of `dir`, loaded on first use; templates change only with a new release. */
export function templateCatalog(dir = TEMPLATES_DIR): TemplateCatalog {
  let catalog = catalogs.get(dir);
  if (!catalog) {
    catalog = loadTemplateCatalog(dir);
    catalogs.set(dir, catalog);
  }
  return catalog;
}
