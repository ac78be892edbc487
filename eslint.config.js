// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');

const OUTER_LAYERS = ['infrastructure', 'api', 'generated'];
/** An import that climbs out of the layer's folder (../, ../../) into one it must not depend on. */
function layerImport(layer, ...inner) {
  const folders = [...OUTER_LAYERS, ...inner];
  return {
    regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`,
    message: `${layer}/ must not import ${folders.join('/, ')}/ (see DEVELOPERS.md, Layout)`,
  };
}

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
    // Type-aware rules over every TypeScript file: tsconfig.check.json is the one program that holds them all
    // (sources and tests), so a single type check serves the whole lint run.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A promise returned without await inside try escapes its catch and finally.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
  // Layers inside each service (DEVELOPERS.md, Layout): domain and application never reach outwards, to the adapters
  // (infrastructure), the transport (api) or the Prisma client (generated); domain never reaches application.
  // Unit tests beside the code are exempt: like main.ts, a test may wire a real adapter to a use case.
  {
    files: ['services/*/src/domain/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layerImport('domain', 'application')] }] },
  },
  {
    files: ['services/*/src/application/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [layerImport('application')] }] },
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
