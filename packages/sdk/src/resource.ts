/**
 * The resource of the process: the OpenTelemetry default resource
 * (`service.name` `unknown_service:...`, `telemetry.sdk.*`), merged with what
 * the resource detectors find, then the `resource` option,
 * `resourceAttributes` and `serviceName` (later wins).
 *
 * Detectors, by name (`OTEL_NODE_RESOURCE_DETECTORS`, as in
 * `@opentelemetry/sdk-node`): `env` (`OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_SERVICE_NAME`), `host`, `os`, `process`, `serviceinstance`
 * (`service.instance.id`, a random UUID), `container` (`container.id`, from
 * `@opentelemetry/resource-detector-container`), `all`, `none`.
 *
 * @internal
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import { containerDetector } from '@opentelemetry/resource-detector-container';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  type Resource,
  type ResourceDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import type { MmapSdkOptions } from './options.js';

type Env = Record<string, string | undefined>;

/** Every detector `all` stands for, in the order they are merged (later wins: `env` last). */
const DETECTORS: ReadonlyMap<string, ResourceDetector> = new Map([
  ['container', containerDetector],
  ['host', hostDetector],
  ['os', osDetector],
  ['serviceinstance', serviceInstanceIdDetector],
  ['process', processDetector],
  ['env', envDetector],
]);

/** The detectors `@opentelemetry/sdk-node` 0.223 runs when neither its option nor the variable names any. */
export const NODE_SDK_DEFAULT_DETECTORS = ['env', 'process', 'host'];

/** The names `OTEL_NODE_RESOURCE_DETECTORS` accepts besides `all` and `none`. */
export const DETECTOR_NAMES: readonly string[] = [...DETECTORS.keys()];

/**
 * The detectors to run: the `resourceDetectors` option, else those
 * `OTEL_NODE_RESOURCE_DETECTORS` names (comma-separated; `all` wins over
 * everything, then `none`; unknown names are skipped with a diag warning),
 * else `defaults`.
 */
export function resourceDetectors(options: MmapSdkOptions, defaults: readonly string[], env: Env = process.env): ResourceDetector[] {
  if (options.resourceDetectors !== undefined) return [...options.resourceDetectors];
  const names = (env.OTEL_NODE_RESOURCE_DETECTORS ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const wanted = names.length === 0 ? defaults : names;
  if (wanted.includes('all')) return [...DETECTORS.values()];
  if (wanted.includes('none')) return [];
  return wanted.flatMap((name) => {
    const detector = DETECTORS.get(name);
    if (detector === undefined) {
      diag.warn(
        `otlp-mmap: OTEL_NODE_RESOURCE_DETECTORS: unknown resource detector ${JSON.stringify(name)} (known: all, none, ${DETECTOR_NAMES.join(', ')}); skipped`,
      );
      return [];
    }
    return [detector];
  });
}

/**
 * The process's resource. Detectors may leave some attributes pending (a
 * promise: `host.id`, `container.id`); `resource.waitForAsyncAttributes()`
 * settles them.
 */
export function detectResource(options: MmapSdkOptions, detectors: ResourceDetector[]): Resource {
  let resource = defaultResource().merge(detectResources({ detectors }));
  if (options.resource) resource = resource.merge(options.resource);
  if (options.resourceAttributes) resource = resource.merge(resourceFromAttributes(options.resourceAttributes));
  if (options.serviceName) resource = resource.merge(resourceFromAttributes({ 'service.name': options.serviceName }));
  return resource;
}

/**
 * The attributes of `resource` that are known now. Attributes still pending
 * are left out (named in a diag debug message): the resource is written into
 * the file once, at start.
 */
export function settledAttributes(resource: Resource): Attributes {
  if (!resource.asyncAttributesPending) return resource.attributes;
  // As Resource.attributes does (the first value of a key wins: merge puts
  // the incoming resource first), without its error about pending values.
  const attributes: Attributes = {};
  const pending = new Set<string>();
  for (const [key, value] of resource.getRawAttributes()) {
    if (isPromiseLike(value)) pending.add(key);
    else if (value !== undefined && value !== null) attributes[key] ??= value;
  }
  for (const key of Object.keys(attributes)) pending.delete(key);
  if (pending.size > 0) {
    diag.debug(
      `otlp-mmap: resource attributes ${[...pending].join(', ')} were not known yet at start and are not written ` +
        '(startMmapSdkAsync and @otlp-mmap/sdk/register wait for them)',
    );
  }
  return attributes;
}

function isPromiseLike(value: unknown): value is PromiseLike<AttributeValue | undefined> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
