// The Node fuzz (tests/fuzz/run.ts), for a bounded time: mutated ring messages, dictionaries and whole
// files from what the real SDK writes, through the collector's decoding, its span, log and measurement
// paths, dictionary resolution, the OTLP encoders and `dump`. No error escapes, every record is exported
// or counted under a named reason, no input takes more than 1 s (3 s for a file), RSS stays under
// 1 GiB, and nothing hangs: a watchdog kills the run when the input in progress does not change for 10 s.
// `npm run fuzz:node` runs it longer.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNNER = fileURLToPath(new URL('./run.ts', import.meta.url));
/** Seconds of fuzzing (the process also spends a few seconds starting and writing its seed files). */
const SECONDS = Number(process.env.NODE_FUZZ_SECONDS ?? 20);
const HANG_MS = 10_000;

test('random and mutated inputs never throw, hang, lose a record uncounted or grow memory without bound', async (t) => {
  const tmp = tempDir('otlp-mmap-node-fuzz-');
  t.teardown(tmp.cleanup);
  const heartbeat = tmp.file('heartbeat');
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import=tsx', RUNNER, '--seconds', String(SECONDS), '--heartbeat', heartbeat, '--findings', tmp.file('findings')],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let hung: string | undefined;
  let last = '';
  let lastChange = Date.now();
  const watchdog = setInterval(() => {
    let now = '';
    try {
      now = readFileSync(heartbeat, 'utf8').trim();
    } catch {
      // not started yet
    }
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (now !== '' && Date.now() - lastChange > HANG_MS) {
      hung = now;
      child.kill('SIGKILL');
    }
  }, 500);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(watchdog);
  t.is(hung, undefined, `input ${hung} did not finish within ${HANG_MS} ms`);
  t.is(code, 0, stderr);
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    executions: number;
    dump: number;
    findings: unknown[];
    peakRssMb: number;
    slowest: unknown;
  };
  t.log(`${summary.executions} inputs (${summary.dump} files), slowest ${JSON.stringify(summary.slowest)}, peak RSS ${summary.peakRssMb} MB`);
  t.deepEqual(summary.findings, []);
  t.true(summary.executions > 1000, 'the fuzz ran');
  t.true(summary.dump > 0, 'files went through dump');
});
