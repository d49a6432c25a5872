/**
 * OTEL_LOG_LEVEL installs a console diag logger, so that what the SDK ignores
 * (an unknown sampler or propagator) is reported — unless the application
 * installed a diag logger of its own. Each case runs in a child process: the
 * diag logger and the console are process-wide.
 */
import { execFileSync } from 'node:child_process';
import test from 'ava';
import { tempPath } from './support/read-back.js';

interface Output {
  /** What the child wrote on stderr (where the console diag logger writes). */
  stderr: string;
  /** What the script put into `globalThis.result`. */
  result: unknown;
}

/**
 * Runs `script` (ES module code importing the SDK from source) in a child
 * process with `env` as its only OpenTelemetry variables, and returns its
 * stderr output and its `globalThis.result`.
 */
function run(script: string, env: Record<string, string>): Output {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('SDK_MMAP_')) base[k] = v;
  }
  const wrapped = `
    const written = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk) => { written.push(String(chunk)); return true; };
    try { ${script} } finally {
      process.stderr.write = write;
      process.stdout.write(JSON.stringify({ stderr: written.join(''), result: globalThis.result ?? null }));
    }`;
  const tmp = tempPath();
  try {
    const stdout = execFileSync(process.execPath, ['--conditions=source', '--import=tsx', '--input-type=module', '-e', wrapped], {
      encoding: 'utf8',
      env: { ...base, SDK_MMAP_EXPORTER_FILE: tmp.path, ...env },
    });
    return JSON.parse(stdout) as Output;
  } finally {
    tmp.cleanup();
  }
}

const START = `
  const { startMmapSdk } = await import('@otlp-mmap/sdk');
  const sdk = startMmapSdk({ registerGlobals: false });
  await sdk.shutdown();`;

test('with OTEL_LOG_LEVEL=warn an unknown sampler and an unknown propagator are reported on the console', (t) => {
  const { stderr } = run(START, { OTEL_LOG_LEVEL: 'warn', OTEL_TRACES_SAMPLER: 'bogus', OTEL_PROPAGATORS: 'xray' });
  t.regex(stderr, /OTEL_TRACES_SAMPLER="bogus" is not supported/);
  t.regex(stderr, /propagator "xray" is not supported/);
});

test('without OTEL_LOG_LEVEL nothing is printed', (t) => {
  const { stderr } = run(START, { OTEL_TRACES_SAMPLER: 'bogus' });
  t.is(stderr, '');
});

test('OTEL_LOG_LEVEL=error keeps warnings quiet', (t) => {
  const { stderr } = run(START, { OTEL_LOG_LEVEL: 'error', OTEL_TRACES_SAMPLER: 'bogus' });
  t.is(stderr, '');
});

test('an OTEL_LOG_LEVEL that is not a level is itself reported, at the INFO level used instead', (t) => {
  const { stderr } = run(START, { OTEL_LOG_LEVEL: 'loud', OTEL_TRACES_SAMPLER: 'bogus' });
  t.regex(stderr, /OTEL_LOG_LEVEL="loud" is not one of/);
  t.regex(stderr, /OTEL_TRACES_SAMPLER="bogus"/);
});

test('a diag logger the application installed is kept and receives the warnings; nothing goes to the console', (t) => {
  const script = `
    const { diag, DiagLogLevel } = await import('@opentelemetry/api');
    const seen = [];
    const keep = (m) => seen.push(m);
    diag.setLogger({ error: keep, warn: keep, info: keep, debug() {}, verbose() {} }, DiagLogLevel.INFO);
    ${START}
    globalThis.result = seen;`;
  const { stderr, result } = run(script, { OTEL_LOG_LEVEL: 'debug', OTEL_TRACES_SAMPLER: 'bogus' });
  t.true(
    (result as string[]).some((m) => m.includes('OTEL_TRACES_SAMPLER="bogus"')),
    JSON.stringify(result),
  );
  t.is(stderr, '');
});

test('the console logger is installed for a disabled SDK too, and shutdown removes it', (t) => {
  const script = `
    const { diag } = await import('@opentelemetry/api');
    const { startMmapSdk } = await import('@otlp-mmap/sdk');
    const sdk = startMmapSdk({ registerGlobals: false });
    diag.warn('while started');
    await sdk.shutdown();
    diag.warn('after shutdown');`;
  const { stderr } = run(script, { OTEL_LOG_LEVEL: 'warn', OTEL_SDK_DISABLED: 'true' });
  t.regex(stderr, /while started/);
  t.notRegex(stderr, /after shutdown/);
});
