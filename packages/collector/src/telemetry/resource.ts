import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { otlpCommon, otlpResource } from '@otlp-mmap/protocol';

/** `service.name` of the collector's own telemetry. */
export const COLLECTOR_SERVICE_NAME = 'otlp-mmap-collector';

/** The collector's package name: the instrumentation scope of its own metrics. */
export const COLLECTOR_SCOPE_NAME = '@otlp-mmap/collector';

/** The collector's version, from its package.json (`src/` and `dist/` sit at the same depth). */
export const COLLECTOR_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** One id per collector process (`service.instance.id`): a random UUID, as the semantic conventions suggest. */
const INSTANCE_ID = randomUUID();

/**
 * The resource of the collector's own telemetry, apart from the resources
 * of the application's telemetry it exports (those come from the file):
 * `service.name` = otlp-mmap-collector, `service.version`,
 * `service.instance.id` (new for each process), and the process and host it
 * runs as. `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` are the
 * application's settings and are not read here.
 */
export function collectorResource(): otlpResource.Resource {
  return {
    attributes: [
      string('service.name', COLLECTOR_SERVICE_NAME),
      string('service.version', COLLECTOR_VERSION),
      string('service.instance.id', INSTANCE_ID),
      int('process.pid', process.pid),
      string('process.runtime.name', 'nodejs'),
      string('process.runtime.version', process.versions.node),
      string('host.name', hostname()),
    ],
    droppedAttributesCount: 0,
    entityRefs: [],
  };
}

export function string(key: string, value: string): otlpCommon.KeyValue {
  return { key, value: { value: { $case: 'stringValue', value } }, keyStrindex: 0 };
}

export function int(key: string, value: number): otlpCommon.KeyValue {
  return { key, value: { value: { $case: 'intValue', value: BigInt(value) } }, keyStrindex: 0 };
}
