/**
 * The `instrumentations` option of startMmapSdk (NodeSDK's): the
 * instrumentations are enabled with this SDK's providers and disabled again
 * by shutdown. Serial: instrumentations patch process-wide modules.
 */
import type * as HttpModule from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { InstrumentationBase, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { SpanKind } from '@otlp-mmap/protocol';
import { startMmapSdk } from '@otlp-mmap/sdk';
import test from 'ava';
import { FileReadBack, tempPath } from './support/read-back.js';
import { collectSpans } from './support/spans.js';

/** A real instrumentation of nothing: it records through the providers it is given and counts enable/disable. */
class ProbeInstrumentation extends InstrumentationBase {
  enabled = 0;
  disabled = 0;

  constructor(config: InstrumentationConfig = {}) {
    super('probe-instrumentation', '1.2.3', { ...config, enabled: false });
  }

  protected init(): [] {
    return [];
  }

  override enable(): void {
    this.enabled += 1;
    super.enable();
  }

  override disable(): void {
    this.disabled += 1;
    super.disable();
  }

  record(): void {
    this.tracer.startSpan('probe-span').end();
    this.meter.createCounter('probe.count').add(1);
    this.logger.emit({ body: 'probe log' });
  }
}

test.serial('instrumentations (nested lists too) record through the SDK providers, also without globals, and shutdown disables them', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  const first = new ProbeInstrumentation();
  const second = new ProbeInstrumentation();
  const sdk = startMmapSdk({ path: tmp.path, registerGlobals: false, instrumentations: [first, [second]] });
  t.deepEqual([first.enabled, second.enabled], [1, 1]);
  first.record();

  const rb = new FileReadBack(tmp.path);
  const [span] = collectSpans(rb);
  t.like(span, { name: 'probe-span', scope: 'probe-instrumentation' });
  t.is(rb.metric(rb.measurements()[0].metricRef).name, 'probe.count');
  t.true(rb.events().some((e) => rb.value(e.body) === 'probe log'));
  rb.close();

  await sdk.shutdown();
  t.deepEqual([first.disabled, second.disabled], [1, 1]);
});

test.serial('a disabled SDK enables no instrumentation', async (t) => {
  const probe = new ProbeInstrumentation();
  const sdk = startMmapSdk({ disabled: true, instrumentations: [probe] });
  t.is(probe.enabled, 0);
  await sdk.shutdown();
});

test.serial('HttpInstrumentation given as an option traces a real HTTP exchange', async (t) => {
  const tmp = tempPath();
  t.teardown(tmp.cleanup);
  // Created disabled: only the SDK's registration enables it.
  const sdk = startMmapSdk({ path: tmp.path, instrumentations: [new HttpInstrumentation({ enabled: false })] });
  t.teardown(() => sdk.shutdown());
  const http = createRequire(import.meta.url)('http') as typeof HttpModule;
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/option`, (res) => res.resume().on('end', resolve)).on('error', reject);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const rb = new FileReadBack(tmp.path);
  const spans = collectSpans(rb);
  rb.close();
  const client = spans.find((s) => s.kind === SpanKind.SPAN_KIND_CLIENT);
  const server_ = spans.find((s) => s.kind === SpanKind.SPAN_KIND_SERVER);
  if (!client || !server_) return t.fail(JSON.stringify(spans.map((s) => [s.name, s.kind])));
  t.is(server_.parent, client.spanId);
});
