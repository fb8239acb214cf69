// Three tiers, each a jest project: `npm test` runs them all, `--selectProjects` one.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // Integration tests start real servers; a hung one still fails, after 5 minutes.
  testTimeout: 300_000,
  // Integration files spend most of their time waiting on servers and simulated controllers, and no
  // two share a port or a loopback address (ports from the OS, a 127.x subnet per file), so four run at
  // once even on 2 cores, where Jest's default (cores - 1) ran them one by one. (A percentage above
  // 100 is read as that many workers.)
  maxWorkers: 4,
  projects: [
    // No servers, child processes or sockets: those tests live in test/integration.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'workflow', testMatch: ['<rootDir>/test/workflow/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
