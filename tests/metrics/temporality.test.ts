import test from 'ava';
import { parseTemporalityPreference } from '../../packages/collector/src/metrics/index.js';

test('the temporality preference parses like OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', (t) => {
  t.is(parseTemporalityPreference(undefined), 'cumulative');
  t.is(parseTemporalityPreference(''), 'cumulative');
  t.is(parseTemporalityPreference(' Delta '), 'delta');
  t.is(parseTemporalityPreference('LOWMEMORY'), 'lowmemory');
  t.is(parseTemporalityPreference('cumulative'), 'cumulative');
  t.is(parseTemporalityPreference('weekly'), undefined);
});
