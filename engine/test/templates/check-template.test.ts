// The consistency checks: every shipped template passes them, and each kind of disagreement between
// params, placeholders, secrets and README is caught and named.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplateCatalog, readTemplateFolder, TEMPLATES_DIR } from '../../src/templates/catalog.js';
import { checkTemplate } from '../../src/templates/check-template.js';
import {
  TEMPLATE_CATEGORIES,
  type LoadedTemplate,
  type Template,
} from '../../src/templates/template.schema.js';

const folders = readdirSync(TEMPLATES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
  .map((e) => e.name);

function shipped(id: string): LoadedTemplate {
  const read = readTemplateFolder(path.join(TEMPLATES_DIR, id));
  if (!read.template) throw new Error(read.problems.join('\n'));
  return read.template;
}

/** A copy of a shipped template with `change` applied, checked with its README. */
function checkVariant(id: string, change: (t: Template & { readme: string }) => void): string[] {
  const copy = structuredClone(shipped(id)) as LoadedTemplate;
  change(copy);
  return checkTemplate(copy, copy.readme, id);
}

describe('shipped templates', () => {
  it.each(folders)('%s is consistent: params, placeholders, secrets, README and examples agree', (id) => {
    const read = readTemplateFolder(path.join(TEMPLATES_DIR, id));
    expect(read.problems).toEqual([]);
  });

  it('are all in the catalogue, which lists and filters them', () => {
    const catalog = loadTemplateCatalog();
    expect(catalog.problems).toEqual([]);
    expect([...catalog.templates.keys()].sort()).toEqual([...folders].sort());
    expect(catalog.list({ category: 'replication' }).map((t) => t.id)).toEqual(['postgres-replication']);
    expect(catalog.list({ q: 'WEBHOOK' }).map((t) => t.id)).toContain('export-to-webhook');
    for (const t of catalog.list()) expect(TEMPLATE_CATEGORIES).toContain(t.category);
  });
});

describe('template checks', () => {
  it('catch a param the pipeline does not use', () => {
    const problems = checkVariant('csv-to-table', (t) => {
      t.params.properties.unused = { type: 'string', default: 'x', description: 'Nothing' };
      t.readme += '\n`unused`\n';
    });
    expect(problems).toEqual(['param "unused" is not used in the pipeline']);
  });

  it('catch a placeholder that names no param', () => {
    const problems = checkVariant('csv-to-table', (t) => {
      (t.pipeline.nodes as { config: Record<string, unknown> }[])[0]!.config.encoding =
        '{{ template.encoding }}';
    });
    expect(problems).toContain(
      'pipeline.nodes[0].config.encoding uses {{ template.encoding }}, but there is no param "encoding"',
    );
  });

  it('catch a param the README does not mention, and a missing README section', () => {
    const problems = checkVariant('csv-to-table', (t) => {
      t.readme = t.readme.replaceAll('`delimiter`', 'the delimiter').replace('## What it needs', '## Needs');
    });
    expect(problems).toEqual([
      'README.md has no "## What it needs" section',
      'README.md does not mention param `delimiter`',
    ]);
  });

  it('catch free text spliced into SQL', () => {
    const problems = checkVariant('csv-to-table', (t) => {
      delete t.params.properties.columns!.pattern;
    });
    expect(problems).toEqual([
      'pipeline.nodes[1].config.assertions[0].sql splices {{ template.columns }} into text; give the param a pattern, enum or format so that no value can change what the text means',
      'pipeline.nodes[2].config.sql splices {{ template.columns }} into text; give the param a pattern, enum or format so that no value can change what the text means',
    ]);
  });

  it('catch a secret a node reads that the template does not list', () => {
    const problems = checkVariant('postgres-replication', (t) => {
      t.secrets = t.secrets.filter((s) => s.param !== 'target_connection');
    });
    expect(problems).toEqual([
      'node "write" reads secret "replica-db", but secrets does not list the param naming it',
    ]);
  });

  it('catch an example that breaks its own schema, and examples that do not compile', () => {
    const problems = checkVariant('csv-to-table', (t) => {
      t.params.properties.target_table!.examples = ['not a table'];
    });
    expect(problems[0]).toMatch(
      /^params\.properties\.target_table\.examples\[0\] is not valid: values\.target_table: /,
    );
    expect(problems[1]).toMatch(/^the example values do not make a valid pipeline \(values\)/);
  });

  it('catch an optional param without default used inside text', () => {
    const problems = checkVariant('postgres-replication', (t) => {
      const node = (t.pipeline.nodes as { name: string }[])[1]!;
      node.name = 'Upsert into {{ template.target_connection }}';
    });
    expect(problems).toContain(
      'pipeline.nodes[1].name: {{ template.target_connection }} may have no value (not required, no default), so it can only be the whole value of an object property, which is then left out',
    );
  });

  it('catch an id that is not its folder name, and a pipeline that sets its own id', () => {
    const copy = structuredClone(shipped('csv-to-table'));
    copy.pipeline.id = 'fixed';
    expect(checkTemplate(copy, copy.readme, 'csv-to-table-v2')).toEqual([
      'id "csv-to-table" differs from its folder name "csv-to-table-v2"',
      'pipeline.id must be left out: instantiation sets it from the request',
    ]);
  });
});
