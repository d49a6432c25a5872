import type { KeyValueRef, Measurement } from '@otlp-mmap/protocol';

/** A Measurement message; a bigint value is written as `as_long`, a number as `as_double`. */
export function measurement(metricRef: bigint, value: bigint | number | undefined, timeUnixNano: bigint, attributes: KeyValueRef[] = []): Measurement {
  return {
    metricRef,
    attributes,
    timeUnixNano,
    value: value === undefined ? undefined : typeof value === 'bigint' ? { $case: 'asLong', value } : { $case: 'asDouble', value },
    spanContext: undefined,
  };
}
