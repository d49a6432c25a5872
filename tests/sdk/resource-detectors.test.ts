/**
 * The resource written into the file: the standard resource detectors, as
 * `@opentelemetry/sdk-node` runs them, chosen by `OTEL_NODE_RESOURCE_DETECTORS`
 * or the `resourceDetectors` option. Serial: the environment is
 * process-wide.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diag, type DiagLogger, DiagLogLevel } from '@opentelemetry/api';
import { containerDetector } from '@opentelemetry/resource-detector-container';
import { osDetector, type ResourceDetector } from '@opentelemetry/resources';
import { type MmapSdk, type MmapSdkOptions, startMmapSdk, startMmapSdkAsync } from '@otlp-mmap/sdk';
import test from 'ava';
import { FileReadBack, type Plain, tempPath } from './support/read-back.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_RESOURCE_KEYS = ['service.name', 'telemetry.sdk.language', 'telemetry.sdk.name', 'telemetry.sdk.version'];

/** The environment without OpenTelemetry variables, plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('SDK_MMAP_')) base[k] = v;
  }
  return { ...base, ...env };
}

/** Runs an ES module script with plain `node -e` in the repository (packages as built). */
function node(script: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: childEnv(env) });
}

/** The resource attributes of the first span in the file. */
function resourceIn(path: string): Record<string, Plain> {
  const rb = new FileReadBack(path);
  try {
    const [span] = rb.spans();
    return rb.attrs(rb.resource(rb.scope(span.scopeRef).resourceRef).attributes);
  } finally {
    rb.close();
  }
}

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Starts an SDK (`start`) under `env`, writes one span and returns the resource read back from the file. */
async function resourceOf(
  env: Record<string, string>,
  options: MmapSdkOptions = {},
  start: (o: MmapSdkOptions) => MmapSdk | Promise<MmapSdk> = startMmapSdkAsync,
): Promise<Record<string, Plain>> {
  const tmp = tempPath();
  try {
    const sdk = await withEnv(env, async () => start({ path: tmp.path, registerGlobals: false, ...options }));
    sdk.tracerProvider.getTracer('t').startSpan('s').end();
    const resource = resourceIn(tmp.path);
    await sdk.shutdown();
    return resource;
  } finally {
    tmp.cleanup();
  }
}

test.serial('with no detector setting the resource has the attributes @opentelemetry/sdk-node 0.223 reports (env, process, host)', async (t) => {
  const env = { OTEL_SERVICE_NAME: 'parity', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };
  const nodeSdk = JSON.parse(
    node(
      `
      import { trace } from '@opentelemetry/api';
      import { NodeSDK } from '@opentelemetry/sdk-node';
      import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
      const exporter = new InMemorySpanExporter();
      const sdk = new NodeSDK({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      sdk.start();
      trace.getTracer('t').startSpan('s').end();
      await trace.getTracerProvider().getDelegate().forceFlush();
      const [span] = exporter.getFinishedSpans();
      process.stdout.write(JSON.stringify(span.resource.attributes));
      await sdk.shutdown();`,
      env,
    ),
  ) as Record<string, unknown>;

  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  node(
    `
    import { startMmapSdkAsync } from '@otlp-mmap/sdk';
    const sdk = await startMmapSdkAsync({ registerGlobals: false });
    sdk.tracerProvider.getTracer('t').startSpan('s').end();
    await sdk.shutdown();`,
    { ...env, SDK_MMAP_EXPORTER_FILE: tmp.path },
  );
  const ours = resourceIn(tmp.path);

  t.deepEqual(Object.keys(ours).sort(), Object.keys(nodeSdk).sort());
  t.true(Object.keys(ours).length >= 15, `${Object.keys(ours).length} attributes`);
  for (const key of ['service.name', 'host.name', 'host.arch', 'host.id', 'process.runtime.name', 'process.runtime.version', 'process.owner']) {
    if (key in nodeSdk) t.is(ours[key], nodeSdk[key] as Plain, key);
  }
});

test.serial('startMmapSdk, which cannot wait, writes the same resource except the attributes found asynchronously (host.id)', async (t) => {
  const sync = await resourceOf({}, {}, startMmapSdk);
  const settled = await resourceOf({});
  t.true('host.name' in sync && 'process.pid' in sync);
  const missing = Object.keys(settled).filter((k) => !(k in sync));
  t.deepEqual(missing, 'host.id' in settled ? ['host.id'] : []);
});

test.serial('OTEL_NODE_RESOURCE_DETECTORS=none leaves the default resource only', async (t) => {
  const resource = await resourceOf({ OTEL_NODE_RESOURCE_DETECTORS: 'none', OTEL_SERVICE_NAME: 'ignored without the env detector' });
  t.deepEqual(Object.keys(resource).sort(), DEFAULT_RESOURCE_KEYS);
  t.regex(String(resource['service.name']), /^unknown_service:/);
});

test.serial('OTEL_NODE_RESOURCE_DETECTORS=os,serviceinstance runs those two only', async (t) => {
  const resource = await resourceOf({ OTEL_NODE_RESOURCE_DETECTORS: 'os, serviceinstance' });
  t.is(resource['os.type'], process.platform);
  t.regex(String(resource['service.instance.id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  t.false('process.pid' in resource);
  t.false('host.name' in resource);
});

test.serial('OTEL_NODE_RESOURCE_DETECTORS=all runs every detector, container included (container.id where the process runs in one)', async (t) => {
  const resource = await resourceOf({ OTEL_NODE_RESOURCE_DETECTORS: 'all', OTEL_RESOURCE_ATTRIBUTES: 'team=core' });
  for (const key of ['host.name', 'os.type', 'os.version', 'process.pid', 'service.instance.id', 'team']) {
    t.true(key in resource, key);
  }
  const containerId: unknown = await containerDetector.detect().attributes?.['container.id'];
  t.is<unknown, unknown>(resource['container.id'], containerId ?? undefined);
});

test.serial('an unknown detector name is reported to diag and the others still run', async (t) => {
  const warnings: string[] = [];
  const logger: DiagLogger = { error: () => {}, warn: (m) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {} };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  try {
    const resource = await resourceOf({ OTEL_NODE_RESOURCE_DETECTORS: 'aws,os' });
    t.true('os.type' in resource);
    t.true(
      warnings.some((w) => w.includes('unknown resource detector "aws"')),
      warnings.join('\n'),
    );
  } finally {
    diag.disable();
  }
});

test.serial('the resourceDetectors option wins over OTEL_NODE_RESOURCE_DETECTORS', async (t) => {
  const resource = await resourceOf({ OTEL_NODE_RESOURCE_DETECTORS: 'process' }, { resourceDetectors: [osDetector] });
  t.true('os.type' in resource);
  t.false('process.pid' in resource);
});

test.serial('an attribute a detector finds asynchronously is written by startMmapSdkAsync, left out by startMmapSdk', async (t) => {
  const late: ResourceDetector = {
    detect: () => ({
      attributes: {
        'deployment.region': new Promise((resolve) => setTimeout(() => resolve('eu-west-3'), 20)),
        'deployment.zone': 'b',
      },
    }),
  };
  const awaited = await resourceOf({}, { resourceDetectors: [late] });
  t.like(awaited, { 'deployment.region': 'eu-west-3', 'deployment.zone': 'b' });
  const immediate = await resourceOf({}, { resourceDetectors: [late] }, startMmapSdk);
  t.is(immediate['deployment.zone'], 'b');
  t.false('deployment.region' in immediate);
});

test.serial('the resource option and serviceName are merged over what the detectors find', async (t) => {
  const resource = await resourceOf(
    { OTEL_NODE_RESOURCE_DETECTORS: 'env,os', OTEL_RESOURCE_ATTRIBUTES: 'os.type=from-env,team=env' },
    { resourceAttributes: { team: 'option' }, serviceName: 'svc' },
  );
  t.like(resource, { 'service.name': 'svc', team: 'option', 'os.type': process.platform });
});
