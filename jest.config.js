/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/tools', '<rootDir>/bench'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    // ESM-only dependencies (of @fastify/static, which serves the API docs' assets): Node loads
    // them with require(), Jest's module loader only once they are compiled to CommonJS.
    '/node_modules/.+\\.js$': ['@swc/jest'],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@fastify/static/node_modules/)?content-disposition/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // Checks every response a test receives against the service's OpenAPI document, and every
  // frame a test client sends or receives against its AsyncAPI document.
  setupFilesAfterEnv: [
    '<rootDir>/test/setup/openapi-responses.ts',
    '<rootDir>/test/setup/asyncapi-frames.ts',
  ],
  testTimeout: 30000,
  maxWorkers: 2,
};
