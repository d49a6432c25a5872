// JS-only cost of span start+end, counter.add, histogram.record: the native binding replaced by a no-op.
import { performance } from 'node:perf_hooks';
import { SpanKind } from '@opentelemetry/api';
const which = process.argv[2] ?? 'after';
const base = which === 'before' ? '../packages/sdk/.src-before' : '../packages/sdk/src';
const { MmapFile } = await import(`${base}/file/mmap-file.ts`);
const { MmapTracerProvider } = await import(`${base}/trace/tracer-provider.ts`);
const { SyncInstrument } = await import(`${base}/metrics/sync-instruments.ts`);
const { AlwaysOnSampler, ParentBasedSampler } = await import('@opentelemetry/sdk-trace-base');
let n = 1; let bytes = 0;
const native = { internString: () => n++, intern: () => n++, append: (_r: number, _b: Buffer, len: number) => { bytes += len; return true; }, maxMessageSize: () => 2000, sync() {}, close() {} };
const file = new MmapFile(native as never);
const shared = { file, limits: { attributeCountLimit: 128, attributeValueLengthLimit: Infinity, eventCountLimit: 128, linkCountLimit: 128, attributePerEventCountLimit: 128, attributePerLinkCountLimit: 128 }, sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), defaultSampler: true };
const tracer = new MmapTracerProvider(shared as never, 0).getTracer('bench');
const A = { 'http.request.method': 'GET', 'url.path': '/api/v1/users/12345', 'url.scheme': 'https', 'server.address': 'api.example.com', 'server.port': 443, 'http.route': '/api/v1/users/:id', 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench', 'client.address': '10.1.2.3', 'network.protocol.version': '1.1', 'http.response.status_code': 200 };
const M = { 'http.request.method': 'GET', 'http.route': '/api/v1/users/:id', 'http.response.status_code': 200, 'server.port': 443 };
const counter = new SyncInstrument(file, 7, 'c', true, true);
const hist = new SyncInstrument(file, 8, 'h', false, true);
const ops: Record<string, (i: number) => void> = {
  span: () => tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER, attributes: A }).end(),
  counter: () => counter.add(1, M),
  bare: () => tracer.startSpan('GET /api/v1/users/:id', { kind: SpanKind.SERVER }).end(),
  histogram: (i) => hist.record((i % 100) * 1.5, M),
};
for (const name of (process.argv[3] ?? 'span,counter,histogram').split(',')) {
  const op = ops[name];
  const res: number[] = [];
  for (let r = 0; r < 25; r++) { const s = performance.now(); for (let i = 0; i < 20000; i++) op(i); res.push(((performance.now() - s) * 1e6) / 20000); }
  res.sort((a, b) => a - b);
  console.log(which.padEnd(6), name.padEnd(9), 'median', res[12].toFixed(0), 'min', res[0].toFixed(0), 'ns');
}
