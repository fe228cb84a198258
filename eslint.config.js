// One lint config for the whole repository. Type-aware where it matters: a floating promise is an
// error everywhere, and workflow code (Temporal's deterministic sandbox) may not touch Node
// built-ins or import activity code as values.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.tributary/**',
      'test-artifacts/**',
      'builder-ui/src/api/schema.gen.ts',
      'docs/.vitepress/cache/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['builder-ui/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['engine/src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message:
              'Workflow code runs in a deterministic sandbox: no Node built-ins. Do this in an activity.',
          })),
          patterns: [
            {
              group: [
                '@tributary/activities',
                '@tributary/activities/*',
                '**/activities/src/**',
                '../worker/*',
                '../infra/*',
                '../store/*',
                '../api/*',
              ],
              allowTypeImports: true,
              message:
                'Workflow code may only `import type` from activities and I/O modules; call them through proxyActivities.',
            },
          ],
        },
      ],
    },
  },
);
