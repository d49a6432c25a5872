import { SIGNALS, type CollectorConfig, type Signal } from '../config/config.js';
import { CODECS, type ExportRequest } from '../otlp/signals.js';
import type { SignalSinks } from '../pipeline/pipeline.js';
import { ExportQueue, type ExportLog } from './export-queue.js';
import type { GrpcTransportOptions } from './grpc-transport.js';
import type { HttpTransportOptions } from './http-transport.js';
import { JsonLinesOutput, JsonLinesTransport } from './json-lines-transport.js';
import { splitRequest } from './split-request.js';
import { loadTlsMaterial, tlsWarnings, type TlsMaterial } from './tls.js';
import { grpcDestination, LazyTransport, type Transport } from './transport.js';

/** A second way into one signal's destination, with a queue and counters of its own (see {@link Exporters.openSideQueue}). */
export interface SideQueue {
  readonly queue: ExportQueue;
  /** Encodes and queues a request of `items` items; false (nothing queued) while the queue has no room. */
  submit(request: ExportRequest, items: number): boolean;
}

/**
 * The export side of a collector: per signal an encoder (protobuf through the
 * generated code, or OTLP/JSON) and a bounded {@link ExportQueue} in front of
 * its transport (gRPC, HTTP, or the JSON-lines output).
 */
export class Exporters implements SignalSinks {
  readonly queues: Readonly<Record<Signal, ExportQueue>>;
  private readonly encoders: Readonly<Record<Signal, (request: ExportRequest) => Uint8Array>>;
  private readonly output: JsonLinesOutput | undefined;
  private readonly transports = {} as Record<Signal, Transport>;
  private readonly sideQueues: ExportQueue[] = [];
  /** Encoded bytes per item of each signal's requests, as last seen (see {@link batchLimit}). */
  private readonly bytesPerItem: Record<Signal, number> = { traces: 0, logs: 0, metrics: 0 };

  /**
   * Reads the TLS files of the targets once (a file that cannot be used
   * throws `TlsFileError`, naming the setting and the path), and logs what
   * TLS settings do nothing for a target.
   */
  constructor(
    private readonly config: CollectorConfig,
    private readonly log: ExportLog,
  ) {
    // TLS first: a file that cannot be used stops the start before anything is opened.
    const tlsFiles = new Map<string, Buffer>();
    const tls = {} as Record<Signal, TlsMaterial | undefined>;
    for (const signal of SIGNALS) {
      const target = config.targets[signal];
      if (target.kind !== 'otlp') continue;
      for (const warning of tlsWarnings(signal, target)) log(warning);
      tls[signal] = target.url.startsWith('https:') ? loadTlsMaterial(target.tls, tlsFiles) : undefined;
    }
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
        const options: GrpcTransportOptions = {
          url: target.url,
          path: codec.grpcPath,
          headers: target.headers,
          timeoutMs: target.timeoutMs,
          compression: target.compression,
          rejectedInResponse: codec.rejectedInResponse,
          tls: tls[signal],
        };
        // node:http2 and the gRPC framing are loaded by the first export, not at start.
        transport = new LazyTransport(
          grpcDestination(target.url, codec.grpcPath),
          async () => new (await import('./grpc-transport.js')).GrpcTransport(options),
        );
        encoders[signal] = codec.encode;
      } else {
        const protobuf = target.protocol === 'http/protobuf';
        const options: HttpTransportOptions = {
          url: target.url,
          contentType: protobuf ? 'application/x-protobuf' : 'application/json',
          headers: target.headers,
          timeoutMs: target.timeoutMs,
          compression: target.compression,
          rejectedInResponse: codec.rejectedInResponse,
          tls: tls[signal],
        };
        // node:http and node:https are loaded by the first export, not at start.
        transport = new LazyTransport(target.url, async () => new (await import('./http-transport.js')).HttpTransport(options));
        encoders[signal] = protobuf ? codec.encode : json;
      }
      this.transports[signal] = transport;
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

  /**
   * Encodes and queues a request; one that does not encode (a bug) is
   * dropped, counted and reported. An encoding over `--batch-bytes` is not
   * sent: the request is split into parts that fit, each encoded and queued
   * (an item that alone is larger goes alone).
   */
  submit(signal: Signal, request: ExportRequest, items: number): void {
    let body: Uint8Array;
    try {
      body = this.encoders[signal](request);
    } catch (error) {
      this.queues[signal].discard(items, `the request did not encode: ${error instanceof Error ? error.message : String(error)}`, 'encoding_failed');
      return;
    }
    if (items > 0) this.bytesPerItem[signal] = Math.max(body.length / items, this.bytesPerItem[signal] * 0.75);
    const cap = this.config.batchBytes;
    if (body.length > cap) {
      // A part of about 80 % of the cap, so that parts of uneven items rarely need a second split.
      const parts = splitRequest(signal, request, Math.ceil(body.length / (cap * 0.8)));
      if (parts.length > 1) {
        for (const part of parts) this.submit(signal, part.request, part.items);
        return;
      }
    }
    this.queues[signal].enqueue(body, items);
  }

  /**
   * Items per request that keep its encoding under `--batch-bytes`, by the
   * bytes per item of the requests encoded so far (a larger item raises it
   * at once, and it comes down by a quarter per request): the pipeline
   * batches no more, so that splitting a request stays the exception.
   */
  batchLimit(signal: Signal): number {
    const perItem = this.bytesPerItem[signal];
    return perItem > 0 ? Math.max(1, Math.floor((this.config.batchBytes * 0.9) / perItem)) : Number.POSITIVE_INFINITY;
  }

  /**
   * Opens another queue (of `capacity` items) in front of `signal`'s
   * transport: the same destination, encoding and TLS, with counters of its
   * own, so that what goes through it (the collector's own metrics) is not
   * counted as the file's telemetry. Drained and closed with the others.
   */
  openSideQueue(signal: Signal, capacity: number): SideQueue {
    const transport = this.transports[signal];
    // The signal's own queue closes the shared transport.
    const shared: Transport = { destination: transport.destination, send: (body) => transport.send(body), close: async () => {} };
    const queue = new ExportQueue(signal, shared, capacity, this.config.retry, this.log, 1);
    this.sideQueues.push(queue);
    const encode = this.encoders[signal];
    return {
      queue,
      submit: (request, items) => {
        if (!queue.hasRoom()) return false;
        let body: Uint8Array;
        try {
          body = encode(request);
        } catch (error) {
          queue.discard(items, `the request did not encode: ${error instanceof Error ? error.message : String(error)}`, 'encoding_failed');
          return true;
        }
        queue.enqueue(body, items);
        return true;
      },
    };
  }

  /** Waits until every queue is empty or the deadline passes (the rest is dropped and counted). */
  async drain(deadline: number): Promise<boolean> {
    const queues = [...SIGNALS.map((s) => this.queues[s]), ...this.sideQueues];
    const results = await Promise.all(queues.map((q) => q.drain(deadline)));
    return results.every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all(this.sideQueues.map((q) => q.close()));
    await Promise.all(SIGNALS.map((s) => this.queues[s].close()));
    await this.output?.close();
  }
}
