// The accounting rule (FORMAT.md 7.6, collector README): every record of a file is exported or counted
// under a named reason in the status line — for each ring, records exported + records counted as lost
// == records written. Files with a random mix of good and bad records (written raw through the binding's
// Writer) are read by the real collector, as `dump` or as the running collector exporting to a real
// OTLP receiver on 127.0.0.1.
import test from 'ava';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { Reader } from '@otlp-mmap/native';
import { AggregationTemporality, type AnyValue, type Event, MetricRef, type SpanEvent } from '@otlp-mmap/protocol';
import { lastStatus, lostRecords, RINGS, tallyJsonLines, tallyReceiver, type ExportTally, type RingName } from '../helpers/accounting.js';
import { tempDir } from '../helpers/files.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { CollectorProcess, runCollector, waitFor } from './support/collector-process.js';
import { ids, RING_EVENTS, RING_MEASUREMENTS, RING_SPANS, TestWriter } from './support/mmap-writer.js';
import { FAST } from './support/setup.js';

/** Small rings (the file stays small), with slots that hold the deeply nested records. */
const WRITER_OPTIONS = { events: { slots: 256, slotSize: 1024 }, spans: { slots: 256, slotSize: 1024 }, measurements: { slots: 256, slotSize: 1024 } };

/** What one generated record does to the file, by kind. */
const KINDS = [
  // events ring
  'log', // a log record: exported
  'log-unresolvable', // scope, event name and attribute key that do not resolve: exported all the same
  'log-body-nested-40', // deeper than the dictionary's limit: exported without its body
  'log-body-nested-60', // deeper than the decoder's limit (100 messages): undecodable
  'orphan-span-event', // for a span never started: exported as a log record
  // spans ring
  'span', // start + end
  'span-open', // start only: exported incomplete
  'span-renamed', // start + rename + end
  'span-with-event', // start + span event (events ring) + end
  'span-replaced', // start, start again with the same ids, end: the first exported incomplete
  'span-update-unknown', // a rename of a span never started
  'span-bad-ids', // a trace id of 3 bytes
  'span-no-event', // ids but no event
  // measurements ring
  'count', // +1 on a DELTA monotonic sum: aggregated
  'histogram', // one sample of a histogram: aggregated
  'metric-out-of-range', // metric_ref past the dictionary
  'metric-is-a-string', // metric_ref of a string entry
  'metric-no-aggregation',
  'metric-bad-scope',
  'measurement-no-value',
  'measurement-negative-increment',
  'measurement-nan',
  'measurement-attributes-nested-60',
  // any ring
  'zeroed', // a slot of zero bytes (length n, then n zeros)
  'empty', // length 0
  'garbage', // a string field whose length runs past the message
] as const;
type Kind = (typeof KINDS)[number];

interface Written {
  events: number;
  spans: number;
  measurements: number;
}

/** The dictionary entries records refer to. */
interface Setup {
  scope: bigint;
  sum: bigint;
  histogram: bigint;
  noAggregation: bigint;
  badScope: bigint;
  aString: bigint;
}

function prepare(writer: TestWriter): Setup {
  const scope = writer.scope('accounting', writer.resource({ 'service.name': 'accounting' }));
  const metric = (definition: Omit<MetricRef, 'description' | 'unit'>): bigint =>
    BigInt(writer.native.addEntry(MetricRef.encode({ description: '', unit: '', ...definition }).finish()));
  const delta = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
  return {
    scope,
    sum: metric({ name: 'count', instrumentationScopeRef: scope, aggregation: { $case: 'sum', value: { aggregationTemporality: delta, isMonotonic: true } } }),
    histogram: metric({
      name: 'latency',
      instrumentationScopeRef: scope,
      aggregation: { $case: 'histogram', value: { aggregationTemporality: delta, bucketBoundaries: [1, 10] } },
    }),
    noAggregation: metric({ name: 'none', instrumentationScopeRef: scope, aggregation: undefined }),
    badScope: metric({ name: 'lost-scope', instrumentationScopeRef: 1n << 40n, aggregation: { $case: 'gauge', value: {} } }),
    aString: BigInt(writer.native.internString('not a metric definition')),
  };
}

/** An AnyValue of arrays nested `depth` deep. */
function nested(depth: number): AnyValue {
  let v: AnyValue = { value: { $case: 'stringValue', value: 'bottom' } };
  for (let i = 0; i < depth; i++) v = { value: { $case: 'arrayValue', value: { values: [v] } } };
  return v;
}

const RING_OF: Record<string, number> = { events: RING_EVENTS, spans: RING_SPANS, measurements: RING_MEASUREMENTS };

/** Writes record `i` of kind `kind` (ring: for the kinds that go to any ring); counts what was written per ring. */
function write(writer: TestWriter, s: Setup, kind: Kind, i: number, ring: RingName, written: Written): void {
  const append = (r: number, bytes: Uint8Array): void => {
    if (!writer.native.append(r, bytes)) throw new Error('ring full');
    written[RINGS[r]]++;
  };
  const event = (e: Partial<Event>): void => {
    if (!writer.event(e)) throw new Error('ring full');
    written.events++;
  };
  const span = (m: SpanEvent): void => {
    writer.span(m);
    written.spans++;
  };
  const measure = (
    metricRef: bigint,
    value: { $case: 'asLong'; value: bigint } | { $case: 'asDouble'; value: number } | undefined,
    attributes = writer.attrs({ k: 'v' }),
  ): void => {
    if (!writer.measurement({ metricRef, attributes, timeUnixNano: 1_700_000_000_000_000_000n, value, spanContext: undefined })) throw new Error('ring full');
    written.measurements++;
  };
  const start = (name: string): void => {
    writer.startSpan(s.scope, 1, i, name);
    written.spans++;
  };
  const end = (): void => {
    writer.endSpan(s.scope, 1, i);
    written.spans++;
  };
  const log = { scopeRef: s.scope, severityNumber: 9, severityText: 'INFO' };
  switch (kind) {
    case 'log':
      return event({ ...log, body: { value: { $case: 'stringValue', value: `log ${i}` } }, attributes: writer.attrs({ n: i }) });
    case 'log-unresolvable':
      return event({
        ...log,
        scopeRef: 1n << 41n,
        eventNameRef: 1n << 42n,
        attributes: [{ keyRef: 1n << 43n, value: { value: { $case: 'boolValue', value: true } } }],
      });
    case 'log-body-nested-40':
      return event({ ...log, body: nested(40) });
    case 'log-body-nested-60':
      return event({ ...log, body: nested(60) });
    case 'orphan-span-event':
      return event({ scopeRef: s.scope, eventNameRef: BigInt(writer.native.internString('orphan')), spanContext: { ...ids(2, i), flags: 1 } });
    case 'span':
      start(`span ${i}`);
      return end();
    case 'span-open':
      return start(`open ${i}`);
    case 'span-renamed':
      start(`span ${i}`);
      writer.rename(s.scope, 1, i, `renamed ${i}`);
      written.spans++;
      return end();
    case 'span-with-event':
      start(`span ${i}`);
      writer.spanEvent(s.scope, 1, i, 'checkpoint');
      written.events++;
      return end();
    case 'span-replaced':
      start(`first ${i}`);
      start(`second ${i}`);
      return end();
    case 'span-update-unknown':
      writer.rename(s.scope, 3, i, 'never started');
      written.spans++;
      return;
    case 'span-bad-ids':
      return span({ scopeRef: s.scope, traceId: new Uint8Array(3), spanId: ids(1, i).spanId, event: { $case: 'name', value: { name: 'x' } } });
    case 'span-no-event':
      return span({ scopeRef: s.scope, ...ids(1, i), event: undefined });
    case 'count':
      return measure(s.sum, { $case: 'asLong', value: 1n });
    case 'histogram':
      return measure(s.histogram, { $case: 'asDouble', value: 1.5 });
    case 'metric-out-of-range':
      return measure(1n << 44n, { $case: 'asLong', value: 1n });
    case 'metric-is-a-string':
      return measure(s.aString, { $case: 'asLong', value: 1n });
    case 'metric-no-aggregation':
      return measure(s.noAggregation, { $case: 'asLong', value: 1n });
    case 'metric-bad-scope':
      return measure(s.badScope, { $case: 'asLong', value: 1n });
    case 'measurement-no-value':
      return measure(s.sum, undefined);
    case 'measurement-negative-increment':
      return measure(s.sum, { $case: 'asLong', value: -1n });
    case 'measurement-nan':
      return measure(s.sum, { $case: 'asDouble', value: Number.NaN });
    case 'measurement-attributes-nested-60':
      return measure(s.sum, { $case: 'asLong', value: 1n }, [{ keyRef: BigInt(writer.native.internString('deep')), value: nested(60) }]);
    case 'zeroed':
      return append(RING_OF[ring], new Uint8Array(1 + (i % 40)));
    case 'empty':
      return append(RING_OF[ring], new Uint8Array(0));
    case 'garbage':
      return append(RING_OF[ring], new Uint8Array([0x22, 0x40, 0x61]));
  }
}

/** Spans-ring messages an exported span stands for: its start, its end, a rename. */
function spanMessages(tally: ExportTally): number {
  return tally.spans.reduce((n, s) => n + 1 + (s.ended ? 1 : 0) + (s.name.startsWith('renamed') ? 1 : 0), 0);
}

const records = fc.array(fc.record({ kind: fc.constantFrom(...KINDS), ring: fc.constantFrom(...RINGS) }), { minLength: 1, maxLength: 40 });

test('every record written is exported or counted under a named reason, per ring, by dump and by the running collector', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(records, fc.constantFrom('dump', 'receiver'), async (list, mode) => {
      runs++;
      const tmp = tempDir('otlp-mmap-accounting-');
      try {
        const path = tmp.file('mix.otlp-mmap');
        const writer = new TestWriter(path, WRITER_OPTIONS);
        const setup = prepare(writer);
        const written: Written = { events: 0, spans: 0, measurements: 0 };
        for (const [i, { kind, ring }] of list.entries()) write(writer, setup, kind, i + 1, ring, written);
        writer.close();
        const reader = Reader.open(path);
        const readerCounters = Object.keys(reader.stats());
        reader.close();

        let tally: ExportTally;
        let status: Record<string, number>;
        if (mode === 'dump') {
          const d = await runCollector(['dump', path, '--temporality', 'delta']);
          t.is(d.exit.code, 0, d.stderr);
          tally = tallyJsonLines(d.jsonLines());
          status = lastStatus(d.stderr, 'dump');
        } else {
          const receiver = await OtlpReceiver.start();
          try {
            const c = new CollectorProcess([
              '--input',
              path,
              ...FAST,
              '--endpoint',
              receiver.httpUrl,
              '--temporality',
              'delta',
              '--stats',
              '--stats-interval',
              '50',
            ]);
            await waitFor(() => c.statusLines().length > 0 || !c.running, 20_000, 'the collector to read the file');
            const exit = await c.stop();
            t.is(exit.code, 0, c.stderr);
            tally = tallyReceiver(receiver);
            status = lastStatus(c.stderr, 'final');
          } finally {
            await receiver.close();
          }
        }
        for (const signal of ['traces', 'logs', 'metrics']) {
          t.is(status[`dropped_${signal}`], 0, `nothing dropped at export (${signal})`);
          t.is(status[`rejected_${signal}`] ?? 0, 0);
        }
        const exported: Record<RingName, number> = {
          events: tally.logRecords + tally.spans.reduce((n, s) => n + s.events, 0),
          spans: spanMessages(tally),
          measurements: tally.measurements,
        };
        for (const ring of RINGS) {
          const lost = lostRecords(status, ring, readerCounters);
          t.is(
            exported[ring] + lost,
            written[ring],
            `${ring} (${mode}): ${exported[ring]} exported + ${lost} counted, ${written[ring]} written; kinds ${list.map((r) => r.kind).join(',')}`,
          );
        }
        t.is(status.failed_events ?? 0, 0);
        t.is(status.failed_spans ?? 0, 0);
        t.is(status.failed_measurements ?? 0, 0);
      } finally {
        tmp.cleanup();
      }
    }),
    { numRuns: 8 },
  );
  t.is(runs, 8);
});

test('each kind of bad record is counted under its own reason', async (t) => {
  const tmp = tempDir('otlp-mmap-accounting-');
  t.teardown(tmp.cleanup);
  const path = tmp.file('bad.otlp-mmap');
  const writer = new TestWriter(path, WRITER_OPTIONS);
  const setup = prepare(writer);
  const written: Written = { events: 0, spans: 0, measurements: 0 };
  const kinds: [Kind, RingName][] = [
    ['log-body-nested-60', 'events'],
    ['span-update-unknown', 'spans'],
    ['span-bad-ids', 'spans'],
    ['span-no-event', 'spans'],
    ['metric-out-of-range', 'measurements'],
    ['metric-is-a-string', 'measurements'],
    ['metric-no-aggregation', 'measurements'],
    ['metric-bad-scope', 'measurements'],
    ['measurement-no-value', 'measurements'],
    ['measurement-negative-increment', 'measurements'],
    ['measurement-nan', 'measurements'],
    ['measurement-attributes-nested-60', 'measurements'],
    ['span-replaced', 'spans'],
  ];
  for (const [i, [kind, ring]] of kinds.entries()) write(writer, setup, kind, 100 + i, ring, written);
  for (const ring of RINGS) for (const kind of ['zeroed', 'empty', 'garbage'] as const) write(writer, setup, kind, 200, ring, written);
  writer.close();
  const d = await runCollector(['dump', path]);
  t.is(d.exit.code, 0, d.stderr);
  const status = lastStatus(d.stderr, 'dump');
  t.like(status, {
    undecodable_events: 4, // nested 60 deep, zeroed, empty, garbage
    undecodable_spans: 3,
    undecodable_measurements: 3,
    unknown_span_updates: 1,
    invalid_spans: 2,
    replaced_spans: 1,
    incomplete_spans: 1,
    measurements_unresolved_metric: 3, // out of range, a string entry, a MetricRef whose scope does not resolve
    measurements_unsupported_aggregation: 1,
    measurements_missing_value: 1,
    measurements_negative_monotonic_increment: 1,
    measurements_non_finite_value: 1,
    measurements_unresolved_attributes: 1,
    undecodable: 10,
  });
  t.is(d.jsonLines().length > 0, true, 'the replaced span is exported');
});

test('what a replaced file still holds when the collector moves on (export queues full) is counted as abandoned', async (t) => {
  const tmp = tempDir('otlp-mmap-accounting-');
  const receiver = await OtlpReceiver.start();
  await receiver.stop(); // the backend is down: the queues fill and reading stops
  const path = tmp.file('replaced.otlp-mmap');
  const writer = new TestWriter(path, WRITER_OPTIONS);
  const c = new CollectorProcess([
    '--input',
    path,
    ...FAST,
    '--endpoint',
    receiver.httpUrl,
    '--queue-size',
    '10',
    '--batch-size',
    '5',
    '--read-batch',
    '10',
    '--shutdown-timeout',
    '500',
    '--stats',
    '--stats-interval',
    '50',
  ]);
  t.teardown(async () => {
    if (c.running) await c.stop('SIGKILL');
    await receiver.close();
    tmp.cleanup();
  });
  const scope = writer.scope('lib', 0n);
  const spans = 100;
  for (let i = 1; i <= spans; i++) {
    writer.startSpan(scope, 1, i, `s${i}`);
    writer.endSpan(scope, 1, i);
  }
  await waitFor(() => (c.statusLines().at(-1)?.queued_traces ?? 0) >= 10, 20_000, 'the traces queue to fill');
  // Another writer's file at the path: the old one is left with most of its spans unread.
  rmSync(path);
  new TestWriter(path, WRITER_OPTIONS).close();
  await waitFor(() => (c.statusLines().at(-1)?.resets ?? 0) >= 1, 20_000, 'the collector to follow the new file');
  await c.stop();
  writer.close();
  const final = lastStatus(c.stderr, 'final');
  t.true(final.abandoned_spans > 0, c.stderr);
  t.is(final.read_spans + final.abandoned_spans, 2 * spans, 'every span message of the old file read or counted as abandoned');
});
