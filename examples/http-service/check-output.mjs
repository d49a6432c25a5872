// Checks the collector's OTLP JSON lines after the demo: `node check-output.mjs FILE COUNT`.
// Every request 1..COUNT must have its server span, its "compute" span and its
// log record; prints a summary and exits non-zero when something is missing.
import { readFileSync } from 'node:fs';

const [file, count] = process.argv.slice(2);
const total = Number(count);
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const value = (v) => v?.stringValue ?? v?.intValue ?? v?.boolValue ?? v?.doubleValue;
const attr = (item, key) => value(item.attributes?.find((a) => a.key === key)?.value);

const serverSpans = new Set();
const computeSpans = new Set();
const logIds = new Set();
let exceptions = 0;
let metricLines = 0;
for (const line of lines) {
  const request = JSON.parse(line);
  for (const rs of request.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        if (span.kind === 2)
          serverSpans.add(
            new URLSearchParams(
              String(attr(span, 'url.query') ?? attr(span, 'http.target') ?? attr(span, 'url.full') ?? '')
                .split('?')
                .pop(),
            ).get('id'),
          );
        if (span.name === 'compute') {
          computeSpans.add(attr(span, 'demo.request.id'));
          if ((span.events ?? []).some((e) => e.name === 'exception')) exceptions++;
        }
      }
    }
  }
  for (const rl of request.resourceLogs ?? [])
    for (const sl of rl.scopeLogs ?? []) for (const log of sl.logRecords ?? []) logIds.add(attr(log, 'demo.request.id'));
  if (request.resourceMetrics) metricLines++;
}

const missing = [];
for (let i = 1; i <= total; i++) {
  const id = String(i);
  if (!computeSpans.has(id)) missing.push(`compute span ${id}`);
  if (!logIds.has(id)) missing.push(`log ${id}`);
}
console.log(
  `${lines.length} OTLP JSON lines: ${serverSpans.size} server spans, ${computeSpans.size} compute spans (${exceptions} with an exception event), ${logIds.size} log records, ${metricLines} metric exports`,
);
console.log(
  `last request (${total}): compute span ${computeSpans.has(String(total)) ? 'present' : 'MISSING'}, log ${logIds.has(String(total)) ? 'present' : 'MISSING'}`,
);
if (serverSpans.size < total) missing.push(`${total - serverSpans.size} server spans`);
if (missing.length > 0) {
  console.log(`MISSING: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
  process.exit(1);
}
console.log('OK: everything the killed service wrote came out');
