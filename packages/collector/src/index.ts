/**
 * `@otlp-mmap/collector`: drains an OTLP-MMAP v1 file and exports OTLP.
 *
 * The command is `otlp-mmap-collector` (see `--help`). To run a collector
 * inside another Node.js program: build its configuration with
 * {@link parseConfig} (the command's flags and environment variables),
 * then `new Collector(config).run()` until {@link Collector.stop}, or
 * {@link dump} a file once.
 *
 * @example
 * ```ts
 * import { Collector, parseConfig } from '@otlp-mmap/collector';
 *
 * const collector = new Collector(parseConfig(['--input', '/dev/shm/app.otlp-mmap', '--endpoint', 'http://127.0.0.1:4318']));
 * process.once('SIGTERM', () => collector.stop());
 * await collector.run();
 * ```
 *
 * @packageDocumentation
 */
export { Collector, CollectorError, dump, EXIT_TRUNCATED, type CollectorDeps } from './collector.js';
export {
  parseConfig,
  ConfigError,
  DEFAULT_READ_BYTES,
  SIGNALS,
  type CollectorConfig,
  type OtlpProtocol,
  type RetryConfig,
  type Signal,
  type SignalTarget,
} from './config/config.js';
export type { TemporalityPreference } from './metrics/temporality.js';
