// /api/docs: a self-contained HTML page (no scripts, no CDN) listing every operation of the
// OpenAPI document with its scope, parameters, body and responses.
import type { OpenApiDocument, OpenApiOperation } from './openapi.js';

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const code = (text: string) => `<code>${escape(text)}</code>`;

/** Inline `code` spans of the descriptions, and nothing else, become markup. */
const prose = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function schemaBlock(label: string, schema: unknown): string {
  return `<details><summary>${escape(label)}</summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details>`;
}

function operationHtml(path: string, method: string, op: OpenApiOperation): string {
  const params = op.parameters.length
    ? `<table><tr><th>Parameter</th><th>In</th><th>Schema</th><th></th></tr>${op.parameters
        .map(
          (p) =>
            `<tr><td>${code(p.name)}${p.required ? ' <b>required</b>' : ''}</td><td>${p.in}</td><td>${code(
              JSON.stringify(p.schema),
            )}</td><td>${p.description ? prose(p.description) : ''}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const body = op.requestBody
    ? schemaBlock(
        `Request body${op.requestBody.required ? '' : ' (optional)'}`,
        op.requestBody.content['application/json']?.schema,
      )
    : '';
  const responses = Object.entries(op.responses)
    .map(([status, r]) => {
      const [type, media] = Object.entries(r.content ?? {})[0] ?? [];
      const line = `<li>${code(status)} ${prose(r.description)}${type ? ` — ${code(type)}` : ''}</li>`;
      return media && status.startsWith('2') ? line + schemaBlock(`${status} schema`, media.schema) : line;
    })
    .join('');
  const anchor = op.operationId;
  return `<section id="${escape(anchor)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> ${code(`/api${path}`)} <a href="#${escape(anchor)}">#</a></h3>
<p>${prose(op.summary)}</p>${op.description ? `<p class="d">${prose(op.description).replace(/\n\n/g, '<br>')}</p>` : ''}
${params}${body}<ul>${responses}</ul></section>`;
}

export function docsPage(document: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(path, method, op)]);
    }
  }
  const toc = [...byTag.keys()].map((t) => `<a href="#tag-${escape(t)}">${escape(t)}</a>`).join(' · ');
  const sections = [...byTag.entries()]
    .map(([tag, ops]) => `<h2 id="tag-${escape(tag)}">${escape(tag)}</h2>${ops.join('\n')}`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(document.info.title)} ${escape(document.info.version)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;margin-top:2.5rem}h3{margin:.2rem 0;font-size:1rem}
section{border:1px solid #e3e6ea;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
code{background:#f3f4f6;padding:0 .25rem;border-radius:3px;font-size:.9em}pre{background:#f7f8fa;padding:.6rem;overflow:auto;font-size:.8em}
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem}
.get{background:#2f7d32}.post{background:#1f5fbf}.put{background:#b26a00}.patch{background:#6a4bbf}.delete{background:#b3261e}
table{border-collapse:collapse;font-size:.85em;margin:.4rem 0}td,th{border:1px solid #e3e6ea;padding:.2rem .4rem;text-align:left}
.d{color:#555;font-size:.9em}a{color:#1f5fbf}
</style></head><body>
<h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>
<p>${prose(document.info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${escape(document.openapi)}).</p>
<p>${toc}</p>
${sections}
</body></html>`;
}
