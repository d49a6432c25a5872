/**
 * `@otlp-mmap/collector`: drains an OTLP-MMAP v1 file and exports OTLP.
 * The command is `otlp-mmap-collector` (see `--help`); this module exposes
 * the building blocks for embedding and testing.
 */
export { parseConfig, ConfigError, type CollectorConfig, type SignalTarget, type OtlpProtocol, type Signal } from './config/config.js';
export { helpText } from './config/help.js';
export { Collector, CollectorError, dump, type CollectorDeps } from './collector.js';
export { FileDictionary, type DictionarySource, type DictionaryLimits } from './dictionary/file-dictionary.js';
export { DictionaryError, type DictionaryView, type ResolvedScope, type ResolvedMetric } from './dictionary/dictionary-view.js';
export { Pipeline, type MetricsSink, type SignalSinks, type PollResult } from './pipeline/pipeline.js';
export { ActiveSpans, INCOMPLETE_ATTRIBUTE, type FinishedSpan, type ActiveSpanLimits } from './spans/active-spans.js';
export { toOtlpJson, type JsonValue } from './otlp/otlp-json.js';
export { backoffDelay } from './export/retry.js';
export { parseRetryAfter } from './export/http-transport.js';
