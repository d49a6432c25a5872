import { FlatWriter, otlpLogsService, otlpMetricsService, otlpTraceService } from '@otlp-mmap/protocol';
import type { Signal } from '../config/config.js';
import { encodeOtlpJson } from './otlp-json.js';

/** An OTLP export request of any signal. */
export type ExportRequest =
  | otlpTraceService.ExportTraceServiceRequest
  | otlpLogsService.ExportLogsServiceRequest
  | otlpMetricsService.ExportMetricsServiceRequest;

/** How one signal's requests and responses are encoded, per OTLP. */
export interface SignalCodec {
  readonly signal: Signal;
  /** gRPC method path. */
  readonly grpcPath: string;
  /** Protobuf encoding of a request (generated ts-proto code, writing through a {@link FlatWriter}). */
  encode(request: ExportRequest): Uint8Array;
  /** OTLP/JSON encoding of a request. */
  encodeJson(request: ExportRequest): string;
  /** Items the server reports as rejected in a (protobuf) partial-success response. */
  rejectedInResponse(response: Uint8Array): number;
}

/**
 * One writer reused for every request: its buffer grows once to the largest
 * request and stays, instead of being regrown (and collected) per request.
 * `finish()` returns a copy and resets it. Encoding is synchronous, so
 * sharing is safe. A `FlatWriter` writes the same bytes as the stock
 * `BinaryWriter` (tests/protocol/flat-writer.test.ts), faster.
 */
const writer = new FlatWriter();

export const TRACES: SignalCodec = {
  signal: 'traces',
  grpcPath: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  encode: (r) => otlpTraceService.ExportTraceServiceRequest.encode(r as otlpTraceService.ExportTraceServiceRequest, writer).finish(),
  encodeJson: (r) => encodeOtlpJson(r),
  rejectedInResponse: (b) => Number(otlpTraceService.ExportTraceServiceResponse.decode(b).partialSuccess?.rejectedSpans ?? 0n),
};

export const LOGS: SignalCodec = {
  signal: 'logs',
  grpcPath: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  encode: (r) => otlpLogsService.ExportLogsServiceRequest.encode(r as otlpLogsService.ExportLogsServiceRequest, writer).finish(),
  encodeJson: (r) => encodeOtlpJson(r),
  rejectedInResponse: (b) => Number(otlpLogsService.ExportLogsServiceResponse.decode(b).partialSuccess?.rejectedLogRecords ?? 0n),
};

export const METRICS: SignalCodec = {
  signal: 'metrics',
  grpcPath: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  encode: (r) => otlpMetricsService.ExportMetricsServiceRequest.encode(r as otlpMetricsService.ExportMetricsServiceRequest, writer).finish(),
  encodeJson: (r) => encodeOtlpJson(r),
  rejectedInResponse: (b) => Number(otlpMetricsService.ExportMetricsServiceResponse.decode(b).partialSuccess?.rejectedDataPoints ?? 0n),
};

export const CODECS: Readonly<Record<Signal, SignalCodec>> = { traces: TRACES, logs: LOGS, metrics: METRICS };
