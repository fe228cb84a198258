// The documentation site: VitePress over docs/, with README.md as its home page and CONTRIBUTING.md
// as a page (both included from the repository root, so there is one copy of each). `npm run
// docs:build` fails on a dead link, in those two files as well as in docs/.
import { defineConfig, type MarkdownRenderer as MarkdownIt } from 'vitepress';

/**
 * README.md and CONTRIBUTING.md live at the repository root and link to `docs/…` so that they work
 * where they are; included into docs/index.md and docs/contributing.md, those links are rewritten
 * to the site's own pages (before the dead-link check reads them).
 */
const rootLink = (href: string) =>
  href
    .replace(/^docs\//, './')
    .replace(/^CONTRIBUTING\.md/, './contributing.md')
    .replace(/^README\.md/, './index.md');

function rootFileLinks(md: MarkdownIt) {
  md.core.ruler.push('root-file-links', (state) => {
    const page = (state.env as { relativePath?: string }).relativePath;
    if (page !== 'index.md' && page !== 'contributing.md') return;
    for (const block of state.tokens)
      for (const token of block.children ?? []) {
        if (token.type === 'link_open') token.attrSet('href', rootLink(token.attrGet('href') ?? ''));
        if (token.type === 'image') token.attrSet('src', rootLink(token.attrGet('src') ?? ''));
      }
  });
}

/** Pipelines write `{{ inputs.x }}` and `{{ params.x }}`: inline code is text, not a Vue template. */
function inlineCodeIsText(md: MarkdownIt) {
  const render = md.renderer.rules.code_inline!;
  md.renderer.rules.code_inline = (...args) => render(...args).replace(/^<code/, '<code v-pre');
}

export default defineConfig({
  title: 'Tributary',
  description: 'Open-source data pipeline platform on a durable Temporal engine',
  lang: 'en',
  lastUpdated: false,
  // The running server's own addresses (http://localhost:3000/api/docs) are not pages of this site.
  ignoreDeadLinks: [/^https?:\/\/localhost[:/]/],
  // The CI workflow example is shown in its guide, not served as a page.
  srcExclude: ['ci/**'],
  markdown: {
    config(md) {
      rootFileLinks(md);
      inlineCodeIsText(md);
    },
  },
  themeConfig: {
    search: { provider: 'local' },
    outline: { level: [2, 3] },
    nav: [
      { text: 'Concepts', link: '/concepts/pipelines' },
      { text: 'Guides', link: '/guides/cli' },
      { text: 'Reference', link: '/reference/api' },
      { text: 'Operations', link: '/operations/guarantees' },
    ],
    sidebar: [
      { text: 'Tributary', items: [{ text: 'Overview and quick start', link: '/' }] },
      {
        text: 'Concepts',
        items: [
          { text: 'Pipelines', link: '/concepts/pipelines' },
          { text: 'Runs and re-runs', link: '/concepts/runs' },
          { text: 'Drafts and versions', link: '/concepts/drafts' },
          { text: 'Branches', link: '/concepts/branches' },
          { text: 'Data products', link: '/concepts/products' },
          { text: 'Lineage', link: '/concepts/lineage' },
          { text: 'Projects as domains', link: '/concepts/projects' },
        ],
      },
      {
        text: 'Guides',
        items: [
          { text: 'The builder', link: '/guides/builder' },
          { text: 'The CLI', link: '/guides/cli' },
          { text: 'Pipelines as code', link: '/guides/pipelines-as-code' },
          { text: 'Templates', link: '/guides/templates' },
          { text: 'Python steps', link: '/guides/python-steps' },
          { text: 'Connectors from PyPI', link: '/guides/connectors-from-pypi' },
          { text: 'Conditions and notifications', link: '/guides/conditions-and-notifications' },
          { text: 'Agents and MCP', link: '/guides/agents-mcp' },
          { text: 'Adding a connector', link: '/guides/adding-a-connector' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'REST API', link: '/reference/api' },
          { text: 'CLI', link: '/reference/cli' },
          { text: 'Configuration', link: '/reference/configuration' },
        ],
      },
      {
        text: 'Operations',
        items: [
          { text: 'Production', link: '/operations/production' },
          { text: 'Security model', link: '/operations/security' },
          { text: 'Guarantees', link: '/operations/guarantees' },
          { text: 'Audit and telemetry', link: '/operations/audit-and-telemetry' },
          { text: 'Run records', link: '/operations/run-records' },
          { text: 'Performance', link: '/operations/performance' },
        ],
      },
      {
        text: 'Development',
        items: [
          { text: 'Architecture', link: '/architecture' },
          { text: 'Contributing', link: '/contributing' },
        ],
      },
    ],
  },
});
