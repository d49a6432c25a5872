// The collector command turns V8's incremental marking off (see
// packages/collector/src/runtime/gc-tuning.ts), unless node was told otherwise.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { growYoungGeneration, hasExplicitFlag, tuneGarbageCollector } from '../../packages/collector/src/runtime/gc-tuning.js';

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

test('started without --min-semi-space-size, the young generation is grown to the 16 MB the flag would give', (t) => {
  const script = `import { getHeapSpaceStatistics } from 'node:v8'; import { growYoungGeneration } from ${JSON.stringify(module)};
const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const before = young(); const grew = growYoungGeneration([], undefined); console.log(JSON.stringify({ before, grew, after: young() }));`;
  const run = (flags: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [...flags, '--import=tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      }),
    ) as { before: number; grew: boolean; after: number };
  const plain = run([]);
  t.true(plain.before < 16 * 1024 * 1024, `plain node starts with ${plain.before} bytes`);
  t.true(plain.grew);
  t.true(plain.after >= 16 * 1024 * 1024, `${plain.after} bytes after`);
  const given = run(['--min-semi-space-size=16']);
  t.false(given.grew, 'the flag already gave it: nothing to do');
  t.is(given.after, given.before);
});

test('an explicit semi-space size on the node command line is left alone', (t) => {
  t.false(growYoungGeneration(['--max-semi-space-size=4'], undefined));
});
