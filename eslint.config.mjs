// Lint setup. The workflows/ override is what keeps workflow code deterministic:
// it may not reach Node built-ins or any I/O package, and may not drop promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const ioPackages = [
  'ssh2',
  'basic-ftp',
  'pino',
  'pino-pretty',
  'prom-client',
  'yaml',
  'commander',
  'playwright-core',
];
// The dev kit (simulator, launchers, demo) ships to no one: product code reaches it only by the
// CLI's dynamic import in src/cli/dev-kit-loader.ts, which the import rule below does not see.
const devkitPatterns = [
  {
    group: ['**/devkit', '**/devkit/*'],
    message:
      'product code never imports the dev kit (only `ciu simulate`/`ciu start` load it, via src/cli/dev-kit-loader.ts)',
  },
];
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  ...ioPackages,
  '@temporalio/worker',
  '@temporalio/client',
  '@temporalio/activity',
  '@temporalio/testing',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.tools/**',
      '.ciu/**',
      'dist/**',
      'test-artifacts/**',
      'test/fixtures/lint/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.map((name) => ({
            name,
            allowTypeImports: false,
            message:
              'workflow code must stay deterministic: no Node built-ins or I/O packages (do it in an activity)',
          })),
          patterns: [
            ...devkitPatterns,
            {
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'workflows may only `import type` from activities',
            },
            {
              group: ['**/src/*', '!**/src/domain', '!**/src/domain/*'],
              message: 'workflows may import only src/domain',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
        { name: 'setInterval', message: 'use sleep() from @temporalio/workflow' },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workers/**/*.ts', 'test/fixtures/lint/product/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: devkitPatterns }] },
  },
  {
    // The one door: its types only; the module itself is loaded by import() at run time.
    files: ['src/cli/dev-kit-loader.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: devkitPatterns.map((p) => ({ ...p, allowTypeImports: true })) },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
  },
);
