import type { otlpMetrics } from '@otlp-mmap/protocol';

/** The data points of one metric. */
export function dataPoints(metric: otlpMetrics.Metric): number {
  const data = metric.data;
  if (!data) return 0;
  switch (data.$case) {
    case 'gauge':
    case 'sum':
    case 'histogram':
    case 'exponentialHistogram':
    case 'summary':
      return data.value.dataPoints.length;
    default:
      return 0;
  }
}
