import { SIGNALS, type CollectorConfig, type Signal } from '../config/config.js';
import { CODECS, type ExportRequest } from '../otlp/signals.js';
import type { SignalSinks } from '../pipeline/pipeline.js';
import { ExportQueue, type ExportLog } from './export-queue.js';
import { GrpcTransport } from './grpc-transport.js';
import { HttpTransport } from './http-transport.js';
import { JsonLinesOutput, JsonLinesTransport } from './json-lines-transport.js';
import type { Transport } from './transport.js';

/**
 * The export side of a collector: per signal an encoder (protobuf through the
 * generated code, or OTLP/JSON) and a bounded {@link ExportQueue} in front of
 * its transport (gRPC, HTTP, or the JSON-lines output).
 */
export class Exporters implements SignalSinks {
  readonly queues: Readonly<Record<Signal, ExportQueue>>;
  private readonly encoders: Readonly<Record<Signal, (request: ExportRequest) => Uint8Array>>;
  private readonly output: JsonLinesOutput | undefined;

  constructor(config: CollectorConfig, log: ExportLog) {
    const queues = {} as Record<Signal, ExportQueue>;
    const encoders = {} as Record<Signal, (request: ExportRequest) => Uint8Array>;
    const needsOutput = SIGNALS.some((s) => config.targets[s].kind === 'json-lines');
    this.output = needsOutput ? new JsonLinesOutput(config.output) : undefined;
    for (const signal of SIGNALS) {
      const target = config.targets[signal];
      const codec = CODECS[signal];
      const json = (r: ExportRequest): Uint8Array => Buffer.from(codec.encodeJson(r), 'utf8');
      let transport: Transport;
      if (target.kind === 'json-lines') {
        transport = new JsonLinesTransport(this.output!);
        encoders[signal] = json;
      } else if (target.protocol === 'grpc') {
        transport = new GrpcTransport({
          url: target.url,
          path: codec.grpcPath,
          headers: target.headers,
          timeoutMs: target.timeoutMs,
          compression: target.compression,
          rejectedInResponse: codec.rejectedInResponse,
        });
        encoders[signal] = codec.encode;
      } else {
        const protobuf = target.protocol === 'http/protobuf';
        transport = new HttpTransport({
          url: target.url,
          contentType: protobuf ? 'application/x-protobuf' : 'application/json',
          headers: target.headers,
          timeoutMs: target.timeoutMs,
          compression: target.compression,
          rejectedInResponse: codec.rejectedInResponse,
        });
        encoders[signal] = protobuf ? codec.encode : json;
      }
      queues[signal] = new ExportQueue(signal, transport, config.queueSize, config.retry, log);
    }
    this.queues = queues;
    this.encoders = encoders;
  }

  /** Opens the JSON-lines output file (if any) so a bad path fails early. */
  async ready(): Promise<void> {
    await this.output?.ready();
  }

  hasRoom(signal: Signal): boolean {
    return this.queues[signal].hasRoom();
  }

  /** Encodes and queues a request; one that does not encode (a bug) is dropped, counted and reported. */
  submit(signal: Signal, request: ExportRequest, items: number): void {
    let body: Uint8Array;
    try {
      body = this.encoders[signal](request);
    } catch (error) {
      this.queues[signal].discard(items, `the request did not encode: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.queues[signal].enqueue(body, items);
  }

  /** Waits until every queue is empty or the deadline passes (the rest is dropped and counted). */
  async drain(deadline: number): Promise<boolean> {
    const results = await Promise.all(SIGNALS.map((s) => this.queues[s].drain(deadline)));
    return results.every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all(SIGNALS.map((s) => this.queues[s].close()));
    await this.output?.close();
  }
}
