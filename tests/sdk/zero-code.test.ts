/**
 * Zero-code start: `node --import @otlp-mmap/sdk/register app`, configured by
 * environment variables only, with @opentelemetry/auto-instrumentations-node
 * installed (a dev dependency of the repository). The application is a
 * child process that knows nothing of OpenTelemetry (tests/sdk/fixtures);
 * what it recorded is read back from the file it leaves. The SDK is the built
 * package (dist/), as users load it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@otlp-mmap/protocol';
import test from 'ava';
import { tempPath } from './support/read-back.js';
import { type SeenSpan, spansIn } from './support/spans.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ESM_APP = fileURLToPath(new URL('./fixtures/zero-code-app.mjs', import.meta.url));
const CJS_APP = fileURLToPath(new URL('./fixtures/zero-code-app.cjs', import.meta.url));
const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
const UNDICI_SCOPE = '@opentelemetry/instrumentation-undici';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --import @otlp-mmap/sdk/register app` with only `env` set of the OpenTelemetry variables. */
function runWithRegister(app: string, env: Record<string, string>): Promise<Run> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('SDK_MMAP_') && k !== 'NODE_OPTIONS') base[k] = v;
  }
  const child = spawn(process.execPath, ['--import', '@otlp-mmap/sdk/register', app], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function urlPath(span: SeenSpan): unknown {
  const target = span.attributes['url.path'] ?? span.attributes['http.target'];
  return typeof target === 'string' ? target.split('?')[0] : target;
}

function serverSpan(spans: SeenSpan[], path: string): SeenSpan | undefined {
  return spans.find((s) => s.kind === SpanKind.SPAN_KIND_SERVER && urlPath(s) === path);
}

test('an ES module application is instrumented: HTTP server and client spans, and fetch (undici), linked through propagation', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const run = await runWithRegister(ESM_APP, { SDK_MMAP_EXPORTER_FILE: tmp.path, OTEL_SERVICE_NAME: 'zero-code-esm' });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), { viaHttp: 'hello /via-http', viaFetch: 'hello /via-fetch' });

  const spans = spansIn(tmp.path);
  const describe = JSON.stringify(spans.map((s) => [s.scope, s.kind, s.name, urlPath(s)]));
  const httpServer = serverSpan(spans, '/via-http');
  const fetchServer = serverSpan(spans, '/via-fetch');
  const httpClient = spans.find((s) => s.kind === SpanKind.SPAN_KIND_CLIENT && s.scope === HTTP_SCOPE);
  const fetchClient = spans.find((s) => s.kind === SpanKind.SPAN_KIND_CLIENT && s.scope === UNDICI_SCOPE);
  if (!httpServer || !fetchServer || !httpClient || !fetchClient) return t.fail(`spans seen: ${describe}`);

  t.is(httpServer.scope, HTTP_SCOPE);
  t.is(httpServer.parent, httpClient.spanId, 'the server span is a child of the http.get span');
  t.is(httpServer.traceId, httpClient.traceId);
  t.is(fetchServer.parent, fetchClient.spanId, 'the server span is a child of the fetch span');
  t.is(fetchServer.traceId, fetchClient.traceId);
  t.not(fetchClient.traceId, httpClient.traceId);
  t.true([httpServer, fetchServer, httpClient, fetchClient].every((s) => s.ended));
  const resource = httpServer.resource;
  t.is(resource['service.name'], 'zero-code-esm');
  for (const key of ['host.name', 'host.arch', 'os.type', 'process.pid', 'process.runtime.name', 'service.instance.id']) {
    t.true(key in resource, `resource attribute ${key}`);
  }
});

test('a CommonJS application is instrumented too', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const run = await runWithRegister(CJS_APP, { SDK_MMAP_EXPORTER_FILE: tmp.path });
  t.is(run.code, 0, run.stderr);
  const spans = spansIn(tmp.path);
  const server = serverSpan(spans, '/from-cjs');
  const client = spans.find((s) => s.kind === SpanKind.SPAN_KIND_CLIENT && s.scope === HTTP_SCOPE);
  if (!server || !client) return t.fail(JSON.stringify(spans.map((s) => [s.scope, s.kind, s.name])));
  t.is(server.parent, client.spanId);
});

test('OTEL_NODE_DISABLED_INSTRUMENTATIONS=undici leaves fetch untraced and http traced', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const run = await runWithRegister(ESM_APP, { SDK_MMAP_EXPORTER_FILE: tmp.path, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'undici' });
  t.is(run.code, 0, run.stderr);
  const spans = spansIn(tmp.path);
  t.false(spans.some((s) => s.scope === UNDICI_SCOPE));
  t.truthy(serverSpan(spans, '/via-http'));
  t.is(serverSpan(spans, '/via-fetch')?.parent, '', 'the request made by fetch arrives without a parent');
});

test('OTEL_NODE_ENABLED_INSTRUMENTATIONS=undici traces fetch only', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const run = await runWithRegister(ESM_APP, { SDK_MMAP_EXPORTER_FILE: tmp.path, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'undici' });
  t.is(run.code, 0, run.stderr);
  const spans = spansIn(tmp.path);
  t.true(spans.some((s) => s.scope === UNDICI_SCOPE && s.kind === SpanKind.SPAN_KIND_CLIENT));
  t.deepEqual(
    spans.filter((s) => s.scope !== UNDICI_SCOPE).map((s) => s.scope),
    [],
  );
});

test('without SDK_MMAP_EXPORTER_FILE the application still runs, and stderr says why there is no telemetry', async (t) => {
  const run = await runWithRegister(ESM_APP, {});
  t.is(run.code, 0);
  t.deepEqual(JSON.parse(run.stdout), { viaHttp: 'hello /via-http', viaFetch: 'hello /via-fetch' });
  t.regex(run.stderr, /@otlp-mmap\/sdk\/register: .*without telemetry.*SDK_MMAP_EXPORTER_FILE/);
});

test('OTEL_SDK_DISABLED=true: the application runs and no file is created', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const run = await runWithRegister(ESM_APP, { SDK_MMAP_EXPORTER_FILE: tmp.path, OTEL_SDK_DISABLED: 'true' });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), { viaHttp: 'hello /via-http', viaFetch: 'hello /via-fetch' });
  t.false(existsSync(tmp.path));
  t.is(run.stderr, '');
});
