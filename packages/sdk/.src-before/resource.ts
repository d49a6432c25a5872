/**
 * The resource of the process: OpenTelemetry defaults (`service.name`
 * `unknown_service:...`, `telemetry.sdk.*`), then `OTEL_RESOURCE_ATTRIBUTES`
 * and `OTEL_SERVICE_NAME`, then the `resource` option, `resourceAttributes`
 * and `serviceName` (later wins).
 *
 * @internal
 */
import type { Attributes } from '@opentelemetry/api';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import type { MmapSdkOptions } from './options.js';

export function resourceAttributes(options: MmapSdkOptions): Attributes {
  let resource = defaultResource().merge(detectResources({ detectors: [envDetector] }));
  if (options.resource) resource = resource.merge(options.resource);
  if (options.resourceAttributes) resource = resource.merge(resourceFromAttributes(options.resourceAttributes));
  if (options.serviceName) resource = resource.merge(resourceFromAttributes({ 'service.name': options.serviceName }));
  return resource.attributes;
}
