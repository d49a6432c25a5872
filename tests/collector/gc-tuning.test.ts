// The collector command turns V8's incremental marking off (see
// packages/collector/src/runtime/gc-tuning.ts), unless node was told otherwise.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasExplicitFlag, tuneGarbageCollector } from '../../packages/collector/src/runtime/gc-tuning.js';

const module = fileURLToPath(new URL('../../packages/collector/src/runtime/gc-tuning.ts', import.meta.url));

test('an explicit choice on the node command line or in NODE_OPTIONS, either polarity, is detected', (t) => {
  t.true(hasExplicitFlag('--no-incremental-marking', ['--incremental-marking'], undefined));
  t.true(hasExplicitFlag('--no-incremental-marking', ['--no-incremental_marking'], undefined));
  t.true(hasExplicitFlag('--no-incremental-marking', [], '--max-old-space-size=100 --incremental-marking'));
  t.false(hasExplicitFlag('--no-incremental-marking', ['--conditions=source', '--incremental-marking-hard-trigger=5'], '--trace-gc'));
});

test('an explicit choice wins: nothing is set', (t) => {
  t.deepEqual(tuneGarbageCollector(['--incremental-marking'], undefined), []);
  t.deepEqual(tuneGarbageCollector([], '--no-incremental-marking'), []);
});

test('without a choice the flag is applied in a running node process', (t) => {
  const script = `import { tuneGarbageCollector } from ${JSON.stringify(module)}; console.log(JSON.stringify(tuneGarbageCollector([], undefined))); globalThis.gc?.();`;
  const out = execFileSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.deepEqual(JSON.parse(out), ['--no-incremental-marking']);
});
