/**
 * Jest for @flash-sale/db alone (`npx jest -c packages/db/jest.config.js`); the root jest.config.js runs the same
 * files in its `unit` and `integration` projects. Integration tests need PostgreSQL: see README.md.
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const common = {
  rootDir: __dirname,
  transform,
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.int.test.ts'], testTimeout: 60_000 },
  ],
};
