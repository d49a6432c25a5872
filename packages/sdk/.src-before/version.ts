/** Name and version of this SDK (its instrumentation scope for self-metrics). */
export const SDK_NAME = '@otlp-mmap/sdk';
export const SDK_VERSION = '0.1.0';
