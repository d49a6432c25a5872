import type { RetryConfig, Signal } from '../config/config.js';
import { backoffDelay } from './retry.js';
import type { Transport } from './transport.js';

/** Counters of one signal's export queue. */
export interface ExportCounters {
  /** Items delivered (accepted by the destination). */
  exported: number;
  /** Items given up: permanent failure, retry budget spent, or shutdown deadline. */
  dropped: number;
  /** Items the destination reported as rejected in a partial success. */
  rejected: number;
  /** Export attempts that were retried. */
  retries: number;
  /** Requests sent (successful or not). */
  requests: number;
  /**
   * {@link dropped} by cause (`error.type` of the semantic conventions): of
   * the last attempt (an HTTP status, a gRPC status name, a Node error code),
   * or `shutdown_timeout`, `already_shutdown`, `encoding_failed`.
   */
  readonly droppedBy: Record<string, number>;
  /** {@link retries} by the cause of the attempt that was retried. */
  readonly retriedBy: Record<string, number>;
}

interface QueuedBatch {
  readonly body: Uint8Array;
  readonly items: number;
  firstAttemptAt: number;
  attempts: number;
}

/** Receives one line per notable export event (first failure, recovery, drop). */
export type ExportLog = (message: string) => void;

/**
 * The bounded export queue of one signal, measured in items. Batches are
 * encoded when queued (the queue holds bytes, not objects) and sent by up to
 * `concurrency` workers (OTLP does not promise ordering between requests).
 * A retryable failure retries the same batch with backoff until it succeeds
 * or its retry budget (`maxElapsedMs`) is spent. The collector stops reading
 * the rings that feed this queue while {@link hasRoom} is false, so an outage
 * leaves data in the file instead of growing memory.
 */
export class ExportQueue {
  readonly counters: ExportCounters = { exported: 0, dropped: 0, rejected: 0, retries: 0, requests: 0, droppedBy: {}, retriedBy: {} };
  private readonly queue: QueuedBatch[] = [];
  private readonly inFlight = new Set<QueuedBatch>();
  private pending = 0;
  private workers = 0;
  private failing = false;
  private idleWaiters: Array<() => void> = [];
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;

  constructor(
    readonly signal: Signal,
    private readonly transport: Transport,
    private readonly capacity: number,
    private readonly retry: RetryConfig,
    private readonly log: ExportLog,
    private readonly concurrency = 2,
  ) {}

  /** Items queued or in flight. */
  get pendingItems(): number {
    return this.pending;
  }

  /** Whether more data may be read for this signal. */
  hasRoom(): boolean {
    return this.pending < this.capacity;
  }

  /** Queues an encoded request holding `items` items. Never refuses: the caller checks {@link hasRoom} before reading. */
  enqueue(body: Uint8Array, items: number): void {
    if (this.closed) {
      this.countDropped(items, 'already_shutdown');
      return;
    }
    this.queue.push({ body, items, firstAttemptAt: 0, attempts: 0 });
    this.pending += items;
    if (this.workers < this.concurrency) void this.work();
  }

  /** Counts `items` that will never be queued as dropped (`errorType` for metrics), and logs why. */
  discard(items: number, reason: string, errorType: string): void {
    this.countDropped(items, errorType);
    this.log(`${this.signal}: dropped ${items} items (${reason})`);
  }

  /**
   * Resolves when everything queued is delivered or given up, or at
   * `deadline` (epoch ms); what is still queued or in flight then is dropped
   * and counted. Returns whether the queue emptied in time.
   */
  async drain(deadline: number): Promise<boolean> {
    if (this.pending === 0) return true;
    const emptied = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    const ok = await Promise.race([emptied, late]);
    clearTimeout(timer);
    if (!ok) this.dropAll('shutdown deadline reached', 'shutdown_timeout');
    return ok;
  }

  /** Stops sending; whatever is still queued is dropped and counted. */
  async close(): Promise<void> {
    this.closed = true;
    this.dropAll('closed', 'already_shutdown');
    await this.transport.close();
  }

  private countDropped(items: number, errorType: string): void {
    if (items === 0) return;
    this.counters.dropped += items;
    this.counters.droppedBy[errorType] = (this.counters.droppedBy[errorType] ?? 0) + items;
  }

  private dropAll(reason: string, errorType: string): void {
    const batches = [...this.queue, ...this.inFlight];
    const count = batches.reduce((n, b) => n + b.items, 0);
    if (count > 0) this.log(`${this.signal}: dropped ${count} items (${reason})`);
    this.countDropped(count, errorType);
    this.queue.length = 0;
    this.inFlight.clear();
    this.pending = 0;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.sleepers.clear();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  private async work(): Promise<void> {
    this.workers++;
    try {
      for (let batch = this.queue.shift(); batch && !this.closed; batch = this.queue.shift()) {
        this.inFlight.add(batch);
        await this.deliver(batch);
      }
    } finally {
      this.workers--;
      if (this.pending === 0) this.notifyIdle();
    }
  }

  /** Sends one batch until it is delivered or given up. */
  private async deliver(batch: QueuedBatch): Promise<void> {
    batch.firstAttemptAt = Date.now();
    for (;;) {
      batch.attempts++;
      this.counters.requests++;
      const result = await this.transport.send(batch.body);
      if (!this.inFlight.has(batch)) return; // dropped meanwhile (deadline or close), already counted
      if (result.kind === 'ok') {
        this.finish(batch);
        this.counters.exported += batch.items - Math.min(batch.items, result.rejected);
        this.counters.rejected += result.rejected;
        if (this.failing) {
          this.failing = false;
          this.log(`${this.signal}: export to ${this.transport.destination} recovered`);
        }
        return;
      }
      if (!this.failing) {
        this.failing = true;
        this.log(`${this.signal}: export to ${this.transport.destination} failed: ${result.reason}`);
      }
      const elapsed = Date.now() - batch.firstAttemptAt;
      if (result.kind === 'fail' || elapsed >= this.retry.maxElapsedMs) {
        this.finish(batch);
        this.countDropped(batch.items, result.errorType);
        this.log(`${this.signal}: dropped ${batch.items} items after ${batch.attempts} attempts (${result.reason})`);
        return;
      }
      this.counters.retries++;
      this.counters.retriedBy[result.errorType] = (this.counters.retriedBy[result.errorType] ?? 0) + 1;
      const delay = backoffDelay(this.retry, batch.attempts, result.kind === 'retry' ? result.afterMs : undefined);
      await this.sleep(Math.min(delay, Math.max(0, this.retry.maxElapsedMs - elapsed)));
      if (!this.inFlight.has(batch)) return;
    }
  }

  private finish(batch: QueuedBatch): void {
    this.inFlight.delete(batch);
    this.pending -= batch.items;
  }
}
