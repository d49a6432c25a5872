/**
 * A real OTLP receiver for tests: a gRPC server (@grpc/grpc-js) and an HTTP
 * server (protobuf and JSON) on 127.0.0.1, both decoding requests with the
 * generated ts-proto OTLP types. It can answer 503 / UNAVAILABLE for the next
 * N requests, and be stopped and started again on the same ports. With
 * `tls`, both servers speak TLS (https:// URLs), and with `tls.clientCa`
 * they require a client certificate that CA signed (mTLS).
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { otlpLogsService, otlpMetricsService, otlpTraceService, type otlpCommon, type otlpLogs, type otlpMetrics, type otlpTrace } from '@otlp-mmap/protocol';

export type ReceivedProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export type ReceivedSignal = 'traces' | 'logs' | 'metrics';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  readonly protocol: ReceivedProtocol;
  readonly signal: ReceivedSignal;
  readonly headers: Readonly<Record<string, string>>;
  /** Whether the receiver accepted it (false: answered with a failure). */
  readonly accepted: boolean;
  /** With mTLS: the common name of the client certificate the request came with. */
  readonly clientCertificate?: string;
  /** Size of the (decompressed) encoded request, when it was accepted. */
  readonly bytes?: number;
}

/** The receiver's side of TLS: its certificate and key, and the CA its clients' certificates must come from (mTLS). */
export interface ReceiverTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When given, a client must present a certificate this CA signed (mTLS). */
  readonly clientCa?: Buffer;
}

export interface ReceiverOptions {
  /** Seconds to send as Retry-After with HTTP 503 failures. */
  readonly retryAfterSeconds?: number;
  /** Serve TLS (and mTLS with `clientCa`) on both servers. */
  readonly tls?: ReceiverTls;
}

const GRPC_PATHS: Record<ReceivedSignal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

export class OtlpReceiver {
  readonly traces: otlpTraceService.ExportTraceServiceRequest[] = [];
  readonly logs: otlpLogsService.ExportLogsServiceRequest[] = [];
  readonly metrics: otlpMetricsService.ExportMetricsServiceRequest[] = [];
  readonly requests: ReceivedRequest[] = [];
  /** TLS handshakes the HTTP server refused (with TLS), as Node worded them. */
  readonly tlsErrors: string[] = [];
  private failuresLeft = 0;
  private httpServer: http.Server | undefined;
  private grpcServer: grpc.Server | undefined;
  private httpPort = 0;
  private grpcPort = 0;

  private constructor(private readonly options: ReceiverOptions) {}

  /** Starts both servers on free ports of 127.0.0.1. */
  static async start(options: ReceiverOptions = {}): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver(options);
    await receiver.listen();
    return receiver;
  }

  /** Base URL of the HTTP server (append /v1/traces etc., or use as OTEL_EXPORTER_OTLP_ENDPOINT). */
  get httpUrl(): string {
    return `${this.scheme}://127.0.0.1:${this.httpPort}`;
  }

  /** URL of the gRPC server. */
  get grpcUrl(): string {
    return `${this.scheme}://127.0.0.1:${this.grpcPort}`;
  }

  /** The gRPC server's address without a scheme (host:port). */
  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  private get scheme(): string {
    return this.options.tls ? 'https' : 'http';
  }

  /** The next `n` requests (any protocol) are answered with HTTP 503 / gRPC UNAVAILABLE. */
  failNext(n: number): void {
    this.failuresLeft = n;
  }

  /** Stops both servers, closing open connections (the ports are kept for {@link listen}). */
  async stop(): Promise<void> {
    const httpServer = this.httpServer;
    const grpcServer = this.grpcServer;
    this.httpServer = undefined;
    this.grpcServer = undefined;
    if (httpServer) {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    }
    grpcServer?.forceShutdown();
  }

  /** Starts listening (again): on the previous ports when there were any. */
  async listen(): Promise<void> {
    const tls = this.options.tls;
    const server = tls
      ? https.createServer(
          { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: tls.clientCa !== undefined, rejectUnauthorized: tls.clientCa !== undefined },
          (req, res) => this.onHttp(req, res),
        )
      : http.createServer((req, res) => this.onHttp(req, res));
    server.on('tlsClientError', (error) => this.tlsErrors.push(error.message));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.httpPort, '127.0.0.1', () => resolve());
    });
    this.httpPort = (server.address() as AddressInfo).port;
    this.httpServer = server;

    const grpcServer = new grpc.Server();
    for (const signal of ['traces', 'logs', 'metrics'] as const) this.addGrpcService(grpcServer, signal);
    this.grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(`127.0.0.1:${this.grpcPort}`, this.grpcCredentials(), (error, port) => (error ? reject(error) : resolve(port))),
    );
    this.grpcServer = grpcServer;
  }

  /** Every span received, flattened with its resource and scope. */
  spans(): ReceivedSpan[] {
    return this.traces.flatMap((r) =>
      r.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => viewSpan(span, rs.resource?.attributes ?? [], ss.scope, rs.schemaUrl, ss.schemaUrl))),
      ),
    );
  }

  /** Every log record received, flattened with its resource and scope. */
  logRecords(): ReceivedLog[] {
    return this.logs.flatMap((r) =>
      r.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) => sl.logRecords.map((record) => viewLog(record, rl.resource?.attributes ?? [], sl.scope, rl.schemaUrl, sl.schemaUrl))),
      ),
    );
  }

  /** Every metric received, flattened with its resource and scope. */
  metricsReceived(): { resource: Record<string, unknown>; scope: string; resourceSchemaUrl: string; scopeSchemaUrl: string; metric: otlpMetrics.Metric }[] {
    return this.metrics.flatMap((r) =>
      r.resourceMetrics.flatMap((rm) =>
        rm.scopeMetrics.flatMap((sm) =>
          sm.metrics.map((metric) => ({
            resource: attributeMap(rm.resource?.attributes ?? []),
            scope: sm.scope?.name ?? '',
            resourceSchemaUrl: rm.schemaUrl,
            scopeSchemaUrl: sm.schemaUrl,
            metric,
          })),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private grpcCredentials(): grpc.ServerCredentials {
    const tls = this.options.tls;
    if (!tls) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
  }

  private takeFailure(): boolean {
    if (this.failuresLeft <= 0) return false;
    this.failuresLeft--;
    return true;
  }

  private addGrpcService(server: grpc.Server, signal: ReceivedSignal): void {
    const codec = {
      traces: [otlpTraceService.ExportTraceServiceRequest, otlpTraceService.ExportTraceServiceResponse],
      logs: [otlpLogsService.ExportLogsServiceRequest, otlpLogsService.ExportLogsServiceResponse],
      metrics: [otlpMetricsService.ExportMetricsServiceRequest, otlpMetricsService.ExportMetricsServiceResponse],
    }[signal] as unknown as [{ decode(b: Uint8Array): unknown }, { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown }];
    const definition: grpc.ServiceDefinition = {
      Export: {
        path: GRPC_PATHS[signal],
        requestStream: false,
        responseStream: false,
        requestSerialize: () => Buffer.alloc(0),
        requestDeserialize: (bytes: Buffer) => ({ message: codec[0].decode(bytes), bytes: bytes.length }),
        responseSerialize: (message: unknown) => Buffer.from(codec[1].encode(message).finish()),
        responseDeserialize: (bytes: Buffer) => codec[1].decode(bytes),
      },
    };
    server.addService(definition, {
      Export: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
        const clientCertificate = commonName(call.getAuthContext()?.sslPeerCertificate?.subject);
        const seen = clientCertificate === undefined ? {} : { clientCertificate };
        if (this.takeFailure()) {
          this.requests.push({ protocol: 'grpc', signal, headers, accepted: false, ...seen });
          callback({ code: grpc.status.UNAVAILABLE, details: 'test receiver: failing on purpose' });
          return;
        }
        const { message, bytes } = call.request as { message: unknown; bytes: number };
        this.requests.push({ protocol: 'grpc', signal, headers, accepted: true, bytes, ...seen });
        this.store(signal, message);
        callback(null, { partialSuccess: undefined });
      },
    });
  }

  private onHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signal = ({ '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics' } as const)[req.url as '/v1/traces'];
      if (!signal) {
        res.writeHead(404).end();
        return;
      }
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      const protocol: ReceivedProtocol = json ? 'http/json' : 'http/protobuf';
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = String(v);
      const socket = req.socket as Partial<TLSSocket>;
      const clientCertificate = commonName(socket.getPeerCertificate?.()?.subject);
      const seen = clientCertificate === undefined ? {} : { clientCertificate };
      if (this.takeFailure()) {
        this.requests.push({ protocol, signal, headers, accepted: false, ...seen });
        const h: Record<string, string> = {};
        if (this.options.retryAfterSeconds !== undefined) h['retry-after'] = String(this.options.retryAfterSeconds);
        res.writeHead(503, h).end('unavailable');
        return;
      }
      let body = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const request = json ? fromJson(signal, JSON.parse(body.toString('utf8'))) : decodeProtobuf(signal, body);
        this.requests.push({ protocol, signal, headers, accepted: true, bytes: body.length, ...seen });
        this.store(signal, request);
      } catch (error) {
        res.writeHead(400).end(String(error));
        return;
      }
      if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  }

  private store(signal: ReceivedSignal, request: unknown): void {
    if (signal === 'traces') this.traces.push(request as otlpTraceService.ExportTraceServiceRequest);
    else if (signal === 'logs') this.logs.push(request as otlpLogsService.ExportLogsServiceRequest);
    else this.metrics.push(request as otlpMetricsService.ExportMetricsServiceRequest);
  }
}

/** The CN of a certificate subject, when there is one. */
function commonName(subject: { CN?: string | string[] } | undefined): string | undefined {
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

function decodeProtobuf(signal: ReceivedSignal, body: Uint8Array): unknown {
  if (signal === 'traces') return otlpTraceService.ExportTraceServiceRequest.decode(body);
  if (signal === 'logs') return otlpLogsService.ExportLogsServiceRequest.decode(body);
  return otlpMetricsService.ExportMetricsServiceRequest.decode(body);
}

// ---- OTLP/JSON -> ts-proto objects (independent of the collector's own mapping) ----

type J = Record<string, unknown>;

const bytesFromHex = (v: unknown): Uint8Array => (typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'hex')) : new Uint8Array(0));
const int64 = (v: unknown): bigint => (v === undefined ? 0n : BigInt(v as string | number));

function anyValueFromJson(j: J | undefined): otlpCommon.AnyValue {
  if (!j) return { value: undefined };
  if ('stringValue' in j) return { value: { $case: 'stringValue', value: j.stringValue as string } };
  if ('boolValue' in j) return { value: { $case: 'boolValue', value: j.boolValue as boolean } };
  if ('intValue' in j) return { value: { $case: 'intValue', value: int64(j.intValue) } };
  if ('doubleValue' in j) {
    const d = j.doubleValue;
    return { value: { $case: 'doubleValue', value: typeof d === 'string' ? Number(d) : (d as number) } };
  }
  if ('bytesValue' in j) return { value: { $case: 'bytesValue', value: new Uint8Array(Buffer.from(j.bytesValue as string, 'base64')) } };
  if ('arrayValue' in j) {
    const values = ((j.arrayValue as J).values as J[] | undefined) ?? [];
    return { value: { $case: 'arrayValue', value: { values: values.map(anyValueFromJson) } } };
  }
  if ('kvlistValue' in j) {
    const values = ((j.kvlistValue as J).values as J[] | undefined) ?? [];
    return { value: { $case: 'kvlistValue', value: { values: values.map(keyValueFromJson) } } };
  }
  return { value: undefined };
}

function keyValueFromJson(j: J): otlpCommon.KeyValue {
  return { key: (j.key as string) ?? '', value: anyValueFromJson(j.value as J | undefined), keyStrindex: 0 };
}

const attrsFromJson = (v: unknown): otlpCommon.KeyValue[] => ((v as J[] | undefined) ?? []).map(keyValueFromJson);

function resourceFromJson(j: J | undefined): { attributes: otlpCommon.KeyValue[]; droppedAttributesCount: number; entityRefs: [] } {
  return { attributes: attrsFromJson(j?.attributes), droppedAttributesCount: (j?.droppedAttributesCount as number) ?? 0, entityRefs: [] };
}

function scopeFromJson(j: J | undefined): otlpCommon.InstrumentationScope {
  return { name: (j?.name as string) ?? '', version: (j?.version as string) ?? '', attributes: attrsFromJson(j?.attributes), droppedAttributesCount: 0 };
}

function spanFromJson(j: J): otlpTrace.Span {
  const status = j.status as J | undefined;
  return {
    traceId: bytesFromHex(j.traceId),
    spanId: bytesFromHex(j.spanId),
    traceState: (j.traceState as string) ?? '',
    parentSpanId: bytesFromHex(j.parentSpanId),
    flags: (j.flags as number) ?? 0,
    name: (j.name as string) ?? '',
    kind: (j.kind as number) ?? 0,
    startTimeUnixNano: int64(j.startTimeUnixNano),
    endTimeUnixNano: int64(j.endTimeUnixNano),
    attributes: attrsFromJson(j.attributes),
    droppedAttributesCount: (j.droppedAttributesCount as number) ?? 0,
    events: ((j.events as J[] | undefined) ?? []).map((e) => ({
      timeUnixNano: int64(e.timeUnixNano),
      name: (e.name as string) ?? '',
      attributes: attrsFromJson(e.attributes),
      droppedAttributesCount: (e.droppedAttributesCount as number) ?? 0,
    })),
    droppedEventsCount: (j.droppedEventsCount as number) ?? 0,
    links: ((j.links as J[] | undefined) ?? []).map((l) => ({
      traceId: bytesFromHex(l.traceId),
      spanId: bytesFromHex(l.spanId),
      traceState: (l.traceState as string) ?? '',
      attributes: attrsFromJson(l.attributes),
      droppedAttributesCount: (l.droppedAttributesCount as number) ?? 0,
      flags: (l.flags as number) ?? 0,
    })),
    droppedLinksCount: (j.droppedLinksCount as number) ?? 0,
    status: status ? { message: (status.message as string) ?? '', code: (status.code as number) ?? 0 } : undefined,
  };
}

function logFromJson(j: J): otlpLogs.LogRecord {
  return {
    timeUnixNano: int64(j.timeUnixNano),
    observedTimeUnixNano: int64(j.observedTimeUnixNano),
    severityNumber: (j.severityNumber as number) ?? 0,
    severityText: (j.severityText as string) ?? '',
    body: j.body === undefined ? undefined : anyValueFromJson(j.body as J),
    attributes: attrsFromJson(j.attributes),
    droppedAttributesCount: (j.droppedAttributesCount as number) ?? 0,
    flags: (j.flags as number) ?? 0,
    traceId: bytesFromHex(j.traceId),
    spanId: bytesFromHex(j.spanId),
    eventName: (j.eventName as string) ?? '',
  };
}

/** Decodes an OTLP/JSON request body (traces and logs fully; metrics by name and raw data). */
export function fromJson(signal: ReceivedSignal, j: J): unknown {
  if (signal === 'traces') {
    return {
      resourceSpans: ((j.resourceSpans as J[] | undefined) ?? []).map((rs) => ({
        resource: resourceFromJson(rs.resource as J | undefined),
        schemaUrl: (rs.schemaUrl as string) ?? '',
        scopeSpans: ((rs.scopeSpans as J[] | undefined) ?? []).map((ss) => ({
          scope: scopeFromJson(ss.scope as J | undefined),
          schemaUrl: (ss.schemaUrl as string) ?? '',
          spans: ((ss.spans as J[] | undefined) ?? []).map(spanFromJson),
        })),
      })),
    };
  }
  if (signal === 'logs') {
    return {
      resourceLogs: ((j.resourceLogs as J[] | undefined) ?? []).map((rl) => ({
        resource: resourceFromJson(rl.resource as J | undefined),
        schemaUrl: (rl.schemaUrl as string) ?? '',
        scopeLogs: ((rl.scopeLogs as J[] | undefined) ?? []).map((sl) => ({
          scope: scopeFromJson(sl.scope as J | undefined),
          schemaUrl: (sl.schemaUrl as string) ?? '',
          logRecords: ((sl.logRecords as J[] | undefined) ?? []).map(logFromJson),
        })),
      })),
    };
  }
  return {
    resourceMetrics: ((j.resourceMetrics as J[] | undefined) ?? []).map((rm) => ({
      resource: resourceFromJson(rm.resource as J | undefined),
      schemaUrl: (rm.schemaUrl as string) ?? '',
      scopeMetrics: ((rm.scopeMetrics as J[] | undefined) ?? []).map((sm) => ({
        scope: scopeFromJson(sm.scope as J | undefined),
        schemaUrl: (sm.schemaUrl as string) ?? '',
        metrics: ((sm.metrics as J[] | undefined) ?? []).map((m) => ({ name: m.name, description: m.description ?? '', unit: m.unit ?? '', json: m })),
      })),
    })),
  };
}

// ---- Views that tests assert on ----

/** A plain JS value of an OTLP AnyValue (ints as bigint, bytes as Uint8Array). */
export function plainValue(v: otlpCommon.AnyValue | undefined): unknown {
  const x = v?.value;
  if (!x) return undefined;
  switch (x.$case) {
    case 'arrayValue':
      return x.value.values.map(plainValue);
    case 'kvlistValue':
      return attributeMap(x.value.values);
    default:
      return x.value;
  }
}

export function attributeMap(kvs: readonly otlpCommon.KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs) out[kv.key] = plainValue(kv.value);
  return out;
}

export interface ReceivedSpan {
  readonly span: otlpTrace.Span;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
  readonly scope: string;
  /** ResourceSpans.schema_url. */
  readonly resourceSchemaUrl: string;
  /** ScopeSpans.schema_url. */
  readonly scopeSchemaUrl: string;
}

export interface ReceivedLog {
  readonly record: otlpLogs.LogRecord;
  readonly body: unknown;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
  readonly scope: string;
  /** ResourceLogs.schema_url. */
  readonly resourceSchemaUrl: string;
  /** ScopeLogs.schema_url. */
  readonly scopeSchemaUrl: string;
}

function viewSpan(
  span: otlpTrace.Span,
  resource: readonly otlpCommon.KeyValue[],
  scope: otlpCommon.InstrumentationScope | undefined,
  resourceSchemaUrl: string,
  scopeSchemaUrl: string,
): ReceivedSpan {
  return {
    span,
    name: span.name,
    traceId: Buffer.from(span.traceId).toString('hex'),
    spanId: Buffer.from(span.spanId).toString('hex'),
    attributes: attributeMap(span.attributes),
    resource: attributeMap(resource),
    scope: scope?.name ?? '',
    resourceSchemaUrl,
    scopeSchemaUrl,
  };
}

function viewLog(
  record: otlpLogs.LogRecord,
  resource: readonly otlpCommon.KeyValue[],
  scope: otlpCommon.InstrumentationScope | undefined,
  resourceSchemaUrl: string,
  scopeSchemaUrl: string,
): ReceivedLog {
  return {
    record,
    body: plainValue(record.body),
    attributes: attributeMap(record.attributes),
    resource: attributeMap(resource),
    scope: scope?.name ?? '',
    resourceSchemaUrl,
    scopeSchemaUrl,
  };
}
