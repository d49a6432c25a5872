/**
 * Span and trace ids come from a seeded pseudo-random generator: they must be
 * uniformly distributed (every bit set about half the time, no pattern between
 * consecutive words) and differ between processes.
 */
import { execFileSync } from 'node:child_process';
import test from 'ava';
import { randomWord } from '../../packages/sdk/src/trace/ids.js';

const WORDS = 200_000;

test('every bit of the id words is set about half the time', (t) => {
  const ones = new Array<number>(32).fill(0);
  for (let i = 0; i < WORDS; i++) {
    const w = randomWord();
    for (let b = 0; b < 32; b++) ones[b] += (w >>> b) & 1;
  }
  // One standard deviation is ~0.0011 of WORDS: 0.01 is ~9 of them.
  const off = ones.map((n) => Math.abs(n / WORDS - 0.5)).filter((d) => d > 0.01);
  t.deepEqual(off, []);
});

test('consecutive id words are not correlated bit by bit', (t) => {
  let previous = randomWord();
  let same = 0;
  for (let i = 0; i < WORDS; i++) {
    const w = randomWord();
    // Bits equal in a word and the next: half of all bits for independent words.
    const eq = ~(w ^ previous);
    for (let b = 0; b < 32; b++) same += (eq >>> b) & 1;
    previous = w;
  }
  t.true(Math.abs(same / (32 * WORDS) - 0.5) < 0.005, `${same / (32 * WORDS)}`);
});

test('two processes draw different ids', (t) => {
  const script =
    "import('./packages/sdk/src/trace/ids.ts').then((m) => console.log([m.randomWord(), m.randomWord(), m.randomWord(), m.randomWord()].join(',')))";
  const run = (): string => execFileSync(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
  const a = run();
  const b = run();
  t.regex(a, /^\d+,\d+,\d+,\d+$/);
  t.not(a, b);
});
