// Example instrumented HTTP service for the demo (scripts/demo.sh): our SDK
// writes its telemetry into an OTLP-MMAP file (SDK_MMAP_EXPORTER_FILE), the
// OpenTelemetry HTTP instrumentation makes a server span per request, and
// the handler writes one log record per request (inside the span, so it
// carries the trace context) and records a span event.
//
// Run: SDK_MMAP_EXPORTER_FILE=/tmp/app.otlp-mmap node examples/http-service/server.mjs [PORT_FILE]
// It listens on 127.0.0.1 on a free port and prints "listening <port>".
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { trace, SpanStatusCode } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { startMmapSdk } from '@otlp-mmap/sdk';

const sdk = startMmapSdk({ serviceName: 'demo-http-service' });
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
// Loaded through require after the instrumentation is registered, so it is patched.
const http = createRequire(import.meta.url)('node:http');

const tracer = trace.getTracer('demo-http-service');
const logger = logs.getLogger('demo-http-service');
const meter = sdk.meterProvider.getMeter('demo-http-service');
const handled = meter.createCounter('demo.requests.handled');

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const id = url.searchParams.get('id') ?? 'none';
  tracer.startActiveSpan('compute', (span) => {
    span.setAttribute('demo.request.id', id);
    span.addEvent('computed', { 'demo.request.id': id });
    if (id.endsWith('7')) {
      span.recordException(new Error(`request ${id} ends in 7`));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `handled request ${id}`, attributes: { 'demo.request.id': id } });
    handled.add(1, { route: url.pathname });
    span.end();
  });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`ok ${id}\n`);
});

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  if (process.argv[2]) writeFileSync(process.argv[2], String(port));
  console.log(`listening ${port}`);
});

process.on('SIGTERM', () => {
  server.close();
  void sdk.shutdown().then(() => process.exit(0));
});
