// The package tests (tests/install): run apart from the main suite
// (`ava --config tests/install/ava.config.mjs`, from scripts/test.sh) because
// a case may build the binding from source with cargo for minutes.
export default {
  files: ['tests/install/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--conditions=source', '--import=tsx'],
  workerThreads: false,
  timeout: '20m',
  concurrency: 1,
};
