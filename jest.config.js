/**
 * Three projects run by `npm test`: unit tests beside the code (no I/O), integration tests against the real Redis,
 * Kafka and PostgreSQL, and end-to-end tests over HTTP through the gateway. A fourth, `chart`, checks the Helm
 * chart's rendered manifests; `npm run test:k8s` runs it with the helm binary it builds. Workspace packages resolve to their sources,
 * so tests never need a build first (only `npm run generate`).
 */
const { workspaces } = require('./scripts/lib/workspaces');

const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const moduleNameMapper = {
  // Generated Prisma clients import their siblings as './x.js' though the files are TypeScript.
  '^(\\.{1,2}/.*)\\.js$': '$1',
  // Each library workspace (package.json `workspaces`), by its exact name.
  ...Object.fromEntries(
    workspaces()
      .filter((workspace) => workspace.library)
      .map(({ name, dir }) => [`^${escape(name)}$`, `<rootDir>/${dir}/src`]),
  ),
};
const common = {
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Docker's image layers (.infra/docker) and Go's module cache (.cache) hold copies of this repository's packages.
  modulePathIgnorePatterns: ['<rootDir>/.infra/', '<rootDir>/.cache/'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{packages,services,gateway}/**/src/**/*.test.ts',
        '<rootDir>/gateway/src/**/*.test.ts',
        '<rootDir>/bench/lib/*.test.ts',
        '<rootDir>/scripts/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services}/*/test/**/*.int.test.ts', '<rootDir>/gateway/test/**/*.int.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-setup.js'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.e2e.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-setup.js'],
    },
    {
      ...common,
      displayName: 'chart',
      testMatch: ['<rootDir>/deploy/test/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-setup.js'],
    },
  ],
};
