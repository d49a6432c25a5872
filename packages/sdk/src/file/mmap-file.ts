/**
 * The SDK's handle on one OTLP-MMAP file: appends encoded messages to the
 * rings, interns dictionary entries, and counts what could not be written.
 *
 * Full rings never block the application for more than a bounded time: when a
 * ring is found full, the writer retries a few times with a short sleep; if it
 * is still full the message is dropped and counted, and the ring is marked
 * "congested" so that later messages try once and drop at once until a write
 * succeeds again (a lagging collector costs the application nothing more).
 *
 * One reusable {@link ProtoWriter} serves every message. It encodes into the
 * binding's scratch memory (`Writer.scratchAppender`), so a commit passes only
 * the ring and the length across the boundary; a message that outgrew that
 * memory (or one from a re-entrant writer) takes the general `append`, which
 * receives the bytes. Encoding can call
 * user code (a getter on an attribute object, a diag logger that itself emits
 * a log record), so a re-entrant encode gets a fresh writer instead of
 * corrupting the one in use.
 *
 * @internal
 */
import { diag } from '@opentelemetry/api';
import { ProtoWriter } from '../encoding/proto-writer.js';
import { Dictionary } from './dictionary.js';
import { type DroppedCounts, emptyDroppedCounts } from './dropped.js';
import { errorCode, type NativeWriter, RING_EVENTS, RING_MEASUREMENTS, RING_SPANS, type RingId, type ScratchAppender } from './native.js';

/** How often a full ring is retried before the message is dropped. */
const FULL_RETRIES = 3;
/** Sleep between retries, in milliseconds (50 µs). */
const FULL_RETRY_SLEEP_MS = 0.05;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Smallest scratch buffer, in bytes. */
const SCRATCH_MIN = 4096;

export class MmapFile {
  readonly dictionary: Dictionary;
  /** Largest message (without length prefix) per ring, indexed by ring id. */
  readonly maxMessageSize: [number, number, number];
  private readonly native: NativeWriter;
  /** Appends the scratch writer's bytes (see the class documentation). */
  private readonly appendScratch: ScratchAppender | undefined;
  private readonly scratch: ProtoWriter;
  private scratchBusy = false;
  private readonly congested = [false, false, false];
  private readonly dropped: DroppedCounts = emptyDroppedCounts();
  private isClosed = false;

  constructor(native: NativeWriter) {
    this.native = native;
    this.dictionary = new Dictionary(native, () => {
      this.dropped.attributes++;
    });
    this.maxMessageSize = [
      native.maxMessageSize(RING_EVENTS),
      native.maxMessageSize(RING_SPANS),
      native.maxMessageSize(RING_MEASUREMENTS),
    ];
    // Room for the largest message any ring takes (bigger ones are dropped
    // before they are appended), and at least the usual 4 KiB.
    const capacity = Math.max(SCRATCH_MIN, ...this.maxMessageSize);
    this.appendScratch = scratchAppender(native, capacity);
    this.scratch = new ProtoWriter(this.appendScratch?.buffer ?? capacity);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Takes the shared encoder (or a fresh one when re-entered), reset. */
  begin(): ProtoWriter {
    if (this.scratchBusy) return new ProtoWriter(512);
    this.scratchBusy = true;
    const w = this.scratch;
    w.reset();
    return w;
  }

  /** Gives the encoder back without writing. */
  release(w: ProtoWriter): void {
    if (w === this.scratch) this.scratchBusy = false;
  }

  /**
   * Appends `w.buf[0..w.pos)` to `ring`. Returns true when written; false
   * when dropped (and counted). The caller still releases `w`.
   */
  commit(ring: RingId, w: ProtoWriter): boolean {
    if (this.isClosed) return false;
    if (w.pos > this.maxMessageSize[ring]) {
      this.countDrop(ring);
      diag.warn(`otlp-mmap: a ${ringName(ring)} message of ${w.pos} bytes does not fit a slot; dropped`);
      return false;
    }
    return this.append(ring, w);
  }

  private append(ring: RingId, w: ProtoWriter): boolean {
    let ok: boolean;
    try {
      ok = this.appendOnce(ring, w);
      if (!ok && !this.congested[ring]) {
        for (let i = 0; i < FULL_RETRIES && !ok; i++) {
          Atomics.wait(sleepCell, 0, 0, FULL_RETRY_SLEEP_MS);
          ok = this.appendOnce(ring, w);
        }
      }
    } catch (err) {
      if (errorCode(err) !== 'ERR_CLOSED') diag.error('otlp-mmap: append failed', err);
      this.countDrop(ring);
      return false;
    }
    if (ok) {
      if (this.congested[ring]) this.congested[ring] = false;
      return true;
    }
    if (!this.congested[ring]) diag.warn(`otlp-mmap: the ${ringName(ring)} ring is full; dropping until it drains`);
    this.congested[ring] = true;
    this.countDrop(ring);
    return false;
  }

  /** One append attempt: from the scratch memory when the message is there, else with its bytes. */
  private appendOnce(ring: RingId, w: ProtoWriter): boolean {
    const appendScratch = this.appendScratch;
    return appendScratch !== undefined && w === this.scratch && w.inInitialBuffer
      ? appendScratch(ring, w.pos)
      : this.native.append(ring, w.buf, w.pos);
  }

  /** Counts one message of `ring` that was not written. */
  countDrop(ring: RingId): void {
    if (ring === RING_SPANS) this.dropped.spans++;
    else if (ring === RING_EVENTS) this.dropped.events++;
    else this.dropped.measurements++;
  }

  /** Counts one attribute left out. */
  countDroppedAttribute(): void {
    this.dropped.attributes++;
  }

  /** A copy of the drop counters. */
  droppedCounts(): DroppedCounts {
    return { ...this.dropped };
  }

  /** Makes the written data durable (msync). */
  sync(): void {
    if (this.isClosed) return;
    try {
      this.native.sync();
    } catch (err) {
      diag.error('otlp-mmap: sync failed', err);
    }
  }

  /** Unmaps the file; later writes are ignored. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.dictionary.close();
    try {
      this.native.close();
    } catch (err) {
      diag.error('otlp-mmap: close failed', err);
    }
  }
}

/**
 * The binding's scratch appender, or undefined where it is not available (a
 * runtime that forbids external buffers): every message then takes `append`.
 */
function scratchAppender(native: NativeWriter, capacity: number): ScratchAppender | undefined {
  if (typeof native.scratchAppender !== 'function') return undefined;
  try {
    return native.scratchAppender(capacity);
  } catch (err) {
    diag.debug('otlp-mmap: no scratch appender; appending through Writer.append', err);
    return undefined;
  }
}

function ringName(ring: RingId): string {
  return ring === RING_SPANS ? 'spans' : ring === RING_EVENTS ? 'events' : 'measurements';
}
