// Jest config: two projects so `jest --selectProjects unit` never needs Temporal.
// The integration project's globalSetup starts a throw-away Temporal dev server
// and bundles the workflows (test/global-setup.ts); jest runs a project's global
// hooks only when at least one of its tests is selected.

// ts-jest in transpile-only mode: type checking is done once by `tsc --noEmit`
// in scripts/test.sh. (ts-jest 29.4 deprecates its own `isolatedModules` option in
// favour of the compiler option, which is passed here as a tsconfig override.)
const tsJest = ['ts-jest', { tsconfig: { isolatedModules: true } }];

/** @type {import('jest').Config} */
module.exports = {
  // testTimeout is a global option in jest 30 (per-project values are ignored), so
  // this generous limit, meant for integration tests, applies to unit tests too.
  testTimeout: 120000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
