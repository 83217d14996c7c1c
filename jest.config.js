/** @type {import('jest').Config} */
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Node's environment plus a garbage collection after each spec file, so a worker exits within jest's
  // 500 ms once the run ends (see the file).
  testEnvironment: '<rootDir>/test/support/collecting-node-environment.ts',
  setupFiles: ['reflect-metadata', '<rootDir>/test/support/quiet-nest-logs.ts'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  rootDir: __dirname,
};

module.exports = {
  maxWorkers: 2,
  // A worker whose live heap passes this after a spec file is replaced by a fresh one. Unit and e2e
  // files share the workers, and a worker that ends the run holding hundreds of MB takes longer than
  // jest's 500 ms to exit (Node unmaps its heap page by page), which jest reports as "failed to exit
  // gracefully" although no handle is open (see test/support/collecting-node-environment.ts).
  workerIdleMemoryLimit: '250MB',
  projects: [
    // Unit tests live next to the code: libs/**/x.spec.ts, apps/**/x.spec.ts.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    // End-to-end tests run the real service, tokenizer server and runner emulator: test/**/*.e2e-spec.ts.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 30 },
  ],
};
