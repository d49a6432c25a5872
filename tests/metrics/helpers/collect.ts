import type { otlpMetrics } from '@otlp-mmap/protocol';

/** Every exported Metric, flattened out of the resource and scope grouping. */
export function allMetrics(resourceMetrics: otlpMetrics.ResourceMetrics[]): otlpMetrics.Metric[] {
  return resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
}

/** The exported Metric named `name`, or undefined. */
export function metricNamed(resourceMetrics: otlpMetrics.ResourceMetrics[], name: string): otlpMetrics.Metric | undefined {
  return allMetrics(resourceMetrics).find((m) => m.name === name);
}

/** The number data points (sum or gauge) of the metric named `name`; [] when absent. */
export function numberPoints(resourceMetrics: otlpMetrics.ResourceMetrics[], name: string): otlpMetrics.NumberDataPoint[] {
  const data = metricNamed(resourceMetrics, name)?.data;
  if (data?.$case === 'sum' || data?.$case === 'gauge') return data.value.dataPoints;
  return [];
}

export function histogramPoints(resourceMetrics: otlpMetrics.ResourceMetrics[], name: string): otlpMetrics.HistogramDataPoint[] {
  const data = metricNamed(resourceMetrics, name)?.data;
  return data?.$case === 'histogram' ? data.value.dataPoints : [];
}

export function expHistogramPoints(resourceMetrics: otlpMetrics.ResourceMetrics[], name: string): otlpMetrics.ExponentialHistogramDataPoint[] {
  const data = metricNamed(resourceMetrics, name)?.data;
  return data?.$case === 'exponentialHistogram' ? data.value.dataPoints : [];
}

/** A number data point's value as a JS value (bigint for as_int). */
export function pointValue(p: otlpMetrics.NumberDataPoint): bigint | number | undefined {
  return p.value?.value;
}
