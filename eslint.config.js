// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');

module.exports = tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/generated/**',
      'packages/contracts/src/gen/**',
      '.cache/**',
      '.infra/**',
      'coverage/**',
      'packages/db/test/fixtures/**/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // Configuration is read once, in each service's config.ts; nowhere else touches process.env.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read config through the service config schema' },
      ],
    },
  },
  {
    files: [
      '**/config.ts',
      '**/main.ts',
      'packages/observability/src/register.ts',
      'scripts/**',
      'deploy/**',
      '**/test/**',
      'e2e/**',
      'bench/**',
      '**/*.test.ts',
      '**/jest.config.js',
      'packages/db/src/cli.ts',
      'packages/testing/**',
      'packages/config/src/index.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
);
