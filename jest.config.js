// Two projects: `unit` (*.spec.ts beside the code, scripts included, no services) and `integration` (test/**/*.test.ts, against the
// real PostgreSQL and Kafka started by deploy/infra-up.sh; each run gets its own database and topic prefix).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
};

module.exports = {
  // jest's 5 s default fails sound tests when CI shares its two cores with other work; a hung test still fails. A
  // global option (inside a project jest ignores it with a warning).
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts', '<rootDir>/packages/*/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/jest-global-teardown.ts',
    },
  ],
};
