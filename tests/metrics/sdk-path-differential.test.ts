/**
 * Differential test through the real path: the same randomized measurements
 * go
 *
 * - through our SDK (`startMmapSdk`, a real file in a temp dir) → the
 *   collector (a child process) → a real OTLP receiver, and
 * - through @opentelemetry/sdk-metrics, read with the same aggregation
 *   (explicit buckets from the instrument's advice, or exponential buckets
 *   with 160 buckets and max scale 20) and the same temporality preference;
 *
 * every collection must carry the same data points (bucket layout and
 * counts exactly, floating sums within rounding).
 *
 * One run of the collector serves several generated scenarios at once: each
 * scenario has its own instrumentation scopes, `explicit-N` (an SDK writing
 * explicit-bucket histograms) and `exponential-N` (a second SDK attached to
 * the same file, writing exponential histograms). A scenario is a few
 * rounds of measurements; the collector is frozen (SIGSTOP) while a round
 * is written, so its next poll reads the whole round at once, and a marker
 * gauge recorded last in the round names the collection that holds it.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { ValueType, type Attributes, type Meter, type MetricOptions } from '@opentelemetry/api';
import { AggregationType, InstrumentType, MeterProvider, type ViewOptions } from '@opentelemetry/sdk-metrics';
import type { otlpMetrics, otlpMetricsService } from '@otlp-mmap/protocol';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { CollectorProcess, waitFor } from '../collector/support/collector-process.js';
import { FAST } from '../collector/support/setup.js';
import { tempDir } from '../helpers/files.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { differences, normalize, sdkToOtlp, type NormalMetric } from './helpers/normalize.js';
import { ManualReader, temporalitySelector } from './helpers/scenario.js';

/** Scenarios per collector run, and rounds (collections) per scenario. */
const SCENARIOS = 24;
const ROUNDS = 3;
/** Measurements per scenario and round, at most. */
const OPS_PER_ROUND = 80;
/** The seed of a run; set SDK_PATH_SEED to replay a failure. */
const SEED = process.env.SDK_PATH_SEED !== undefined ? Number(process.env.SDK_PATH_SEED) : Date.now() % 2 ** 31;

type Preference = 'cumulative' | 'delta';
type Mode = 'explicit' | 'exponential';
const MODES: readonly Mode[] = ['explicit', 'exponential'];

interface InstrumentSpec {
  name: string;
  kind: 'counter' | 'upDownCounter' | 'gauge' | 'histogram';
  int: boolean;
  /** Explicit bucket boundaries given as advice: the scenario's double or integer ones. */
  advice?: 'double' | 'int';
  /** INT values of magnitude up to 2^53 and beyond, which int64 holds exactly. */
  big?: boolean;
}

/** The instruments of every scenario scope. */
const INSTRUMENTS: readonly InstrumentSpec[] = [
  { name: 'counter.int', kind: 'counter', int: true },
  { name: 'counter.double', kind: 'counter', int: false },
  { name: 'counter.int.big', kind: 'counter', int: true, big: true },
  { name: 'updown.int.big', kind: 'upDownCounter', int: true, big: true },
  { name: 'gauge.int.big', kind: 'gauge', int: true, big: true },
  { name: 'updown.int', kind: 'upDownCounter', int: true },
  { name: 'updown.double', kind: 'upDownCounter', int: false },
  { name: 'gauge.int', kind: 'gauge', int: true },
  { name: 'gauge.double', kind: 'gauge', int: false },
  { name: 'histogram.default', kind: 'histogram', int: false },
  { name: 'histogram.advice', kind: 'histogram', int: false, advice: 'double' },
  { name: 'histogram.int', kind: 'histogram', int: true, advice: 'int' },
];

interface Op {
  instrument: number;
  attributes: Attributes;
  value: number;
}

interface Scenario {
  boundaries: number[];
  intBoundaries: number[];
  /** ROUNDS lists of measurements; a collection follows each. */
  rounds: Op[][];
}

// ---- Generated values -------------------------------------------------

const tiny = fc.constantFrom(Number.MIN_VALUE, 2 ** -1022, 3e-310, 1e-300, 1e-12);
const huge = fc.constantFrom(Number.MAX_VALUE, 1e300, 2 ** 1000, 1e15);
const powerOfTwo = fc.integer({ min: -1074, max: 1023 }).map((e) => 2 ** e);
const anyDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
/** Doubles whose sums are exact in any order (k / 1024, |k| ≤ 2^30). */
const exactDouble = fc.integer({ min: -(2 ** 30), max: 2 ** 30 }).map((k) => k / 1024);
/** Integers whose sums stay exact (an INT stream is summed as int64 by the collector, as doubles by sdk-metrics). */
const integer = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1e9, max: 1e9 }), fc.constantFrom(0, -1, 2 ** 31, -(2 ** 31), 1e12));

/**
 * Integers of magnitude 2^41 to 2^53 (and -(2^53)) that are multiples of
 * 2^41: int64 holds them and their sums exactly, and so do doubles (a sum of
 * fewer than 2^12 of them stays below 2^66 and a multiple of 2^41), so
 * sdk-metrics' double sums are exact too.
 */
const bigInteger = fc.oneof(
  fc.integer({ min: 1, max: 2 ** 12 }).map((k) => k * 2 ** 41),
  fc.integer({ min: 1, max: 2 ** 12 }).map((k) => -k * 2 ** 41),
  fc.constantFrom(2 ** 53, -(2 ** 53)),
);
/** Gauge values up to the ends of int64 (the last value is kept, never summed). */
const int64Extremes = fc.constantFrom(2 ** 53, 2 ** 62, -(2 ** 62), -(2 ** 63), 2 ** 63 - 2 ** 10);

/**
 * Values for each instrument, negative ones included everywhere (Counter
 * and Histogram drop them, in both SDKs). UpDownCounter doubles stay
 * exactly summable: their sums cancel, and sdk-metrics adds the same values
 * in another grouping across collections.
 */
function valueFor(spec: InstrumentSpec, s: Pick<Scenario, 'boundaries' | 'intBoundaries'>): fc.Arbitrary<number> {
  if (spec.big) return spec.kind === 'gauge' ? fc.oneof(bigInteger, int64Extremes) : bigInteger;
  switch (spec.kind) {
    case 'counter':
      return spec.int ? integer : fc.oneof(anyDouble, exactDouble, tiny, huge, fc.constant(0));
    case 'upDownCounter':
      return spec.int ? integer : fc.oneof(exactDouble, tiny, fc.constant(0));
    case 'gauge':
      return spec.int
        ? fc.oneof(
            integer,
            fc.maxSafeInteger(),
            fc.maxSafeInteger().map((v) => -v),
          )
        : fc.oneof(anyDouble, tiny, huge);
    case 'histogram':
      if (spec.int) return fc.oneof(integer, fc.constantFrom(...s.intBoundaries));
      return fc.oneof(anyDouble, exactDouble, tiny, huge, powerOfTwo, fc.constantFrom(0, 5, 10, 25, 1000, 10_000), fc.constantFrom(...s.boundaries));
  }
}

/** Mostly a few common attribute sets (series with many values), sometimes any of a wide set; keys in random order. */
const wideAttributes = fc.record(
  { a: fc.constantFrom('x', 'y', 'z', 'w'), b: fc.integer({ min: 0, max: 5 }), c: fc.boolean(), d: fc.constantFrom(0.5, 1.25, -3) },
  { requiredKeys: [] },
);
const commonAttributes = fc.constantFrom<Attributes>({}, { a: 'x' }, { a: 'y', b: 1 });
const attributes: fc.Arbitrary<Attributes> = fc
  .oneof({ weight: 2, arbitrary: commonAttributes }, { weight: 1, arbitrary: wideAttributes })
  .chain((attrs) =>
    fc
      .shuffledSubarray(Object.keys(attrs), { minLength: Object.keys(attrs).length })
      .map((order) => Object.fromEntries(order.map((k) => [k, (attrs as Attributes)[k]])) as Attributes),
  );

const sortedUnique = (values: fc.Arbitrary<number>, maxLength: number) =>
  fc
    .uniqueArray(
      values.map((v) => (Object.is(v, -0) ? 0 : v)),
      { minLength: 1, maxLength, comparator: 'SameValueZero' },
    )
    .map((list) => list.sort((x, y) => x - y));

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    boundaries: sortedUnique(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -100, max: 100 }), powerOfTwo), 8),
    intBoundaries: sortedUnique(fc.integer({ min: -10, max: 1e6 }), 6),
  })
  .chain((bounds) => {
    const op = fc
      .integer({ min: 0, max: INSTRUMENTS.length - 1 })
      .chain((instrument) => fc.record({ instrument: fc.constant(instrument), attributes, value: valueFor(INSTRUMENTS[instrument], bounds) }));
    const rounds = fc.array(fc.array(op, { maxLength: OPS_PER_ROUND }), { minLength: ROUNDS, maxLength: ROUNDS });
    return rounds.map((r): Scenario => ({ ...bounds, rounds: r }));
  });

// ---- Playing scenarios into any OpenTelemetry Meter --------------------

/** One function per instrument of INSTRUMENTS, recording an op into `meter`. */
function recorders(meter: Meter, s: Scenario): ((op: Op) => void)[] {
  return INSTRUMENTS.map((spec) => {
    const options: MetricOptions = { valueType: spec.int ? ValueType.INT : ValueType.DOUBLE };
    if (spec.advice) options.advice = { explicitBucketBoundaries: spec.advice === 'int' ? s.intBoundaries : s.boundaries };
    switch (spec.kind) {
      case 'counter': {
        const counter = meter.createCounter(spec.name, options);
        return (op: Op) => counter.add(op.value, op.attributes);
      }
      case 'upDownCounter': {
        const counter = meter.createUpDownCounter(spec.name, options);
        return (op: Op) => counter.add(op.value, op.attributes);
      }
      case 'gauge': {
        const gauge = meter.createGauge(spec.name, options);
        return (op: Op) => gauge.record(op.value, op.attributes);
      }
      case 'histogram': {
        const histogram = meter.createHistogram(spec.name, options);
        return (op: Op) => histogram.record(op.value, op.attributes);
      }
    }
    throw new Error(`unknown instrument kind ${(spec as { kind: string }).kind}`);
  });
}

/** Meters by aggregation mode: `explicit-N` and `exponential-N` scopes. */
type Meters = (mode: Mode, scenarioIndex: number) => Meter;

/** Creates every scenario's instruments in both modes; returns a player of round `r`. */
function player(meters: Meters, scenarios: readonly Scenario[]): (round: number) => void {
  const byScenario = scenarios.map((s, i) => MODES.map((mode) => recorders(meters(mode, i), s)));
  return (round) => {
    scenarios.forEach((s, i) => {
      for (const op of s.rounds[round]) for (const record of byScenario[i]) record[op.instrument](op);
    });
  };
}

// ---- The reference: sdk-metrics ---------------------------------------

function referenceProvider(preference: Preference, mode: Mode): { provider: MeterProvider; reader: ManualReader } {
  const reader = new ManualReader({ aggregationTemporalitySelector: temporalitySelector(preference) });
  const views: ViewOptions[] =
    mode === 'exponential'
      ? [{ instrumentType: InstrumentType.HISTOGRAM, aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } }] // max scale: 20, sdk-metrics' fixed default
      : [];
  return { provider: new MeterProvider({ readers: [reader], views }), reader };
}

/**
 * What sdk-metrics exports after each round. Delta: one MeterProvider per
 * mode, collected after every round. Cumulative: rounds 0..r played into
 * fresh providers and collected once — the same totals, without sdk-metrics
 * 2.12's mis-merge of cumulative exponential histograms whose earlier
 * intervals held only zeros (see differential.test.ts).
 */
async function reference(scenarios: readonly Scenario[], preference: Preference): Promise<otlpMetrics.ResourceMetrics[][]> {
  const open = () => {
    const pair = { explicit: referenceProvider(preference, 'explicit'), exponential: referenceProvider(preference, 'exponential') };
    const play = player((mode, i) => pair[mode].provider.getMeter(`${mode}-${i}`), scenarios);
    const collect = async () => {
      const out: otlpMetrics.ResourceMetrics[] = [];
      for (const { reader } of [pair.explicit, pair.exponential]) {
        const { resourceMetrics, errors } = await reader.collect();
        if (errors.length > 0) throw new AggregateError(errors, 'sdk-metrics collection failed');
        out.push(...sdkToOtlp(resourceMetrics));
      }
      return out;
    };
    const close = () => Promise.all([pair.explicit.provider.shutdown(), pair.exponential.provider.shutdown()]);
    return { play, collect, close };
  };
  const exports: otlpMetrics.ResourceMetrics[][] = [];
  if (preference === 'delta') {
    const sdk = open();
    for (let round = 0; round < ROUNDS; round++) {
      sdk.play(round);
      exports.push(await sdk.collect());
    }
    await sdk.close();
  } else {
    for (let round = 0; round < ROUNDS; round++) {
      const sdk = open();
      for (let r = 0; r <= round; r++) sdk.play(r);
      exports.push(await sdk.collect());
      await sdk.close();
    }
  }
  return exports;
}

// ---- The real path: SDK → file → collector → receiver -----------------

const MARKER_SCOPE = 'round-marker';
const MARKER_NAME = 'round';

/** The first export request holding the marker gauge at `round`. */
function collectionOfRound(receiver: OtlpReceiver, round: number): otlpMetricsService.ExportMetricsServiceRequest | undefined {
  return receiver.metrics.find((request) =>
    request.resourceMetrics.some((rm) =>
      rm.scopeMetrics.some(
        (sm) =>
          sm.scope?.name === MARKER_SCOPE &&
          sm.metrics.some(
            (m) =>
              m.name === MARKER_NAME &&
              m.data?.$case === 'gauge' &&
              m.data.value.dataPoints.some((p) => p.value?.$case === 'asInt' && p.value.value === BigInt(round)),
          ),
      ),
    ),
  );
}

/**
 * Plays the scenarios through two SDKs writing one file (explicit and
 * exponential histograms) and a collector with the `preference`; returns the
 * collection after each round, and the last request received. The last
 * round is followed by SIGTERM, sent while the collector is still frozen:
 * it reads that round while draining at shutdown (or just before), and the
 * last request is the final collection it makes before exiting.
 */
async function realPath(
  t: ExecutionContext,
  scenarios: readonly Scenario[],
  preference: Preference,
): Promise<{ rounds: otlpMetrics.ResourceMetrics[][]; final: otlpMetrics.ResourceMetrics[] }> {
  const tmp = tempDir('otlp-mmap-sdk-path-');
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('app.otlp-mmap');
  const common = { path, serviceName: 'sdk-path', registerGlobals: false, metricCollectionIntervalMillis: 3_600_000 };
  const explicit = startMmapSdk({ ...common, measurements: { slots: 16_384 } });
  const exponential = startMmapSdk({ ...common, attach: true, histogramAggregation: 'exponential' });
  const collector = new CollectorProcess(['--input', path, ...FAST, '--read-batch', '16384', '--endpoint', receiver.httpUrl, '--temporality', preference]);
  t.teardown(async () => {
    if (collector.running) {
      collector.resume();
      await collector.stop('SIGKILL');
    }
    await exponential.shutdown();
    await explicit.shutdown();
    await receiver.close();
    tmp.cleanup();
  });

  const sdks = { explicit, exponential };
  const play = player((mode, i) => sdks[mode].meterProvider.getMeter(`${mode}-${i}`), scenarios);
  const marker = explicit.meterProvider.getMeter(MARKER_SCOPE).createGauge(MARKER_NAME, { valueType: ValueType.INT });
  const exports: otlpMetrics.ResourceMetrics[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const last = round === ROUNDS - 1;
    await collector.pause();
    play(round);
    marker.record(round);
    if (last) collector.child.kill('SIGTERM');
    collector.resume();
    if (last) {
      // (Not stop(): a second SIGTERM makes the collector exit without flushing.)
      const exit = await collector.exited;
      t.is(exit.code, 0, collector.stderr);
    }
    await waitFor(() => collectionOfRound(receiver, round) !== undefined, 60_000, `the collection of round ${round}`);
    exports.push(collectionOfRound(receiver, round)!.resourceMetrics);
  }
  t.is(explicit.droppedCounts().measurements + exponential.droppedCounts().measurements, 0, 'no measurement was dropped by the SDK');
  // The last request of the file's metrics: the collector's own metrics (its own resource) come after it.
  const ofTheFile = receiver.metrics.filter((request) =>
    request.resourceMetrics.some((rm) => !rm.resource?.attributes.some((a) => a.key === 'service.name' && a.value?.value?.value === 'otlp-mmap-collector')),
  );
  return { rounds: exports, final: ofTheFile[ofTheFile.length - 1].resourceMetrics };
}

/** Metrics of the scenario scopes only (not the marker, nor the SDK's self-metric). */
function scenarioMetrics(resourceMetrics: otlpMetrics.ResourceMetrics[]): NormalMetric[] {
  return normalize(resourceMetrics).filter((m) => MODES.some((mode) => m.id.startsWith(`${mode}-`)));
}

for (const preference of ['cumulative', 'delta'] as const) {
  test(`with the ${preference} preference, SDK → file → collector exports the same points as sdk-metrics after every collection`, async (t) => {
    const scenarios = fc.sample(scenario, { numRuns: SCENARIOS, seed: SEED });
    const expected = await reference(scenarios, preference);
    const { rounds: actual, final } = await realPath(t, scenarios, preference);
    let compared = 0;
    const kinds = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const ours = scenarioMetrics(actual[round]);
      const theirs = scenarioMetrics(expected[round]);
      const diffs = differences(ours, theirs, { relativeTolerance: 1e-9, absoluteTolerance: 1e-6 });
      t.deepEqual(diffs, [], `round ${round} differs (replay with SDK_PATH_SEED=${SEED})`);
      for (const m of theirs) {
        compared += m.points.length;
        if (m.points.length > 0) kinds.add(`${m.kind}/${m.temporality ?? '-'}`);
      }
    }
    if (preference === 'cumulative') {
      // The final collection at SIGTERM holds the totals of every round.
      const diffs = differences(scenarioMetrics(final), scenarioMetrics(expected[ROUNDS - 1]), { relativeTolerance: 1e-9, absoluteTolerance: 1e-6 });
      t.deepEqual(diffs, [], `the final collection differs (replay with SDK_PATH_SEED=${SEED})`);
    }
    t.log(`seed ${SEED}: ${compared} data points compared`);
    // Every aggregation and temporality the preference leads to was compared.
    const upDown = 'sum/cumulative';
    const others = preference === 'cumulative' ? 'cumulative' : 'delta';
    t.deepEqual([...kinds].sort(), [...new Set([`sum/${others}`, upDown, 'gauge/-', `histogram/${others}`, `exponentialHistogram/${others}`])].sort());
  });
}
