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
 * A file that another program cuts shorter (`: > file`, logrotate's
 * copytruncate) is noticed by the first append that meets the cut (the
 * binding turns the fault into ERR_FILE_TRUNCATED), or within
 * {@link WATCH_INTERVAL_MS} by a timer that compares the file's size with
 * what the writer knows. From then on every message is dropped and counted,
 * one diag error is reported, and the file is re-created at the same path
 * shortly after (`Writer.recreate`, retried every second while it fails).
 * The binding writes every dictionary entry back at its old reference, so
 * the references cached everywhere in the SDK (resource, scopes, metric
 * definitions, keys, memoised encodings) stay valid; entries interned while
 * the file is cut get references the new file will hold. A writer attached
 * to a file it shares with other processes does not re-create it (that
 * would destroy the other writers' data and references): its telemetry is
 * dropped and counted from then on.
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
/** How often the file's size is checked for a cut that no append has met yet. */
const WATCH_INTERVAL_MS = 500;
/** Delay before re-creating a truncated file: off the API call that noticed it. */
const RECREATE_DELAY_MS = 100;
/** Delay between attempts to re-create the file while they fail. */
const RECREATE_RETRY_MS = 1000;

/** How the file was opened. */
export interface MmapFileOptions {
  /** The path, for messages. */
  readonly path?: string;
  /** Attached to a file other processes write too: never re-created. */
  readonly attached?: boolean;
}

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
  /** Closed or truncated: the one flag `commit` tests (the hot path pays a single check). */
  private refusing = false;
  private readonly path: string;
  private readonly attached: boolean;
  /** The file was cut: messages are dropped until it is re-created. */
  private isTruncated = false;
  private readonly watchTimer: NodeJS.Timeout | undefined;
  private recreateTimer: NodeJS.Timeout | undefined;
  /** The last re-creation failure reported (each distinct one is reported once). */
  private recreateFailure: string | undefined;

  constructor(native: NativeWriter, options: MmapFileOptions = {}) {
    this.native = native;
    this.path = options.path ?? 'the telemetry file';
    this.attached = options.attached ?? false;
    this.dictionary = new Dictionary(native, () => {
      this.dropped.attributes++;
    });
    this.maxMessageSize = [native.maxMessageSize(RING_EVENTS), native.maxMessageSize(RING_SPANS), native.maxMessageSize(RING_MEASUREMENTS)];
    // Room for the largest message any ring takes (bigger ones are dropped
    // before they are appended), and at least the usual 4 KiB.
    const capacity = Math.max(SCRATCH_MIN, ...this.maxMessageSize);
    this.appendScratch = scratchAppender(native, capacity);
    this.scratch = new ProtoWriter(this.appendScratch?.buffer ?? capacity);
    if (typeof native.isTruncated === 'function') {
      this.watchTimer = setInterval(() => this.watch(), WATCH_INTERVAL_MS);
      this.watchTimer.unref();
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether the file was found cut and not (yet) re-created: messages are dropped. */
  get truncated(): boolean {
    return this.isTruncated;
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
    if (this.refusing) {
      if (!this.isClosed) this.countDrop(ring); // truncated: dropped, counted
      return false;
    }
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
      const code = errorCode(err);
      if (code === 'ERR_FILE_TRUNCATED') this.onTruncated(err);
      else if (code !== 'ERR_CLOSED') diag.error('otlp-mmap: append failed', err);
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
    return appendScratch !== undefined && w === this.scratch && w.inInitialBuffer ? appendScratch(ring, w.pos) : this.native.append(ring, w.buf, w.pos);
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

  /** Counts one string attribute value cut short to fit a slot. */
  countTruncatedAttribute(): void {
    this.dropped.truncatedAttributes++;
  }

  /** A copy of the drop counters. */
  droppedCounts(): DroppedCounts {
    return { ...this.dropped };
  }

  /** Makes the written data durable (msync). */
  sync(): void {
    if (this.isClosed || this.isTruncated) return;
    try {
      this.native.sync();
    } catch (err) {
      if (errorCode(err) === 'ERR_FILE_TRUNCATED') this.onTruncated(err);
      else diag.error('otlp-mmap: sync failed', err);
    }
  }

  /** The timer's look at the file size: a cut that no append has met yet. */
  private watch(): void {
    if (this.isClosed || this.isTruncated) return;
    let cut: boolean;
    try {
      cut = this.native.isTruncated!();
    } catch {
      return; // closed meanwhile, or fstat failed: look again next time
    }
    if (cut) this.onTruncated(undefined);
  }

  /**
   * The file was cut: drop from now on, report once, and (unless attached)
   * re-create it soon, off the API call that noticed. Sets the state before
   * reporting: a diag logger that writes telemetry re-enters and drops.
   */
  private onTruncated(cause: unknown): void {
    if (this.isTruncated || this.isClosed) return;
    this.isTruncated = true;
    this.refusing = true;
    if (this.attached || typeof this.native.recreate !== 'function') {
      diag.error(
        `otlp-mmap: ${this.path} was truncated by another program; this process attached to a file shared with other writers and does not re-create it: its telemetry is dropped and counted from now on`,
        ...(cause === undefined ? [] : [cause]),
      );
      return;
    }
    diag.error(
      `otlp-mmap: ${this.path} was truncated by another program; telemetry is dropped and counted until the file is re-created at the same path (in about ${RECREATE_DELAY_MS} ms)`,
      ...(cause === undefined ? [] : [cause]),
    );
    this.scheduleRecreate(RECREATE_DELAY_MS);
  }

  private scheduleRecreate(delayMs: number): void {
    this.recreateTimer = setTimeout(() => this.recreate(), delayMs);
    this.recreateTimer.unref();
  }

  /** Re-creates the file (same layout, dictionary entries at their old references) and resumes. */
  private recreate(): void {
    this.recreateTimer = undefined;
    if (this.isClosed || !this.isTruncated) return;
    try {
      this.native.recreate!();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.recreateFailure) {
        this.recreateFailure = message;
        diag.error(`otlp-mmap: could not re-create ${this.path} (retrying every ${RECREATE_RETRY_MS} ms)`, err);
      }
      this.scheduleRecreate(RECREATE_RETRY_MS);
      return;
    }
    this.recreateFailure = undefined;
    this.congested.fill(false);
    this.isTruncated = false;
    this.refusing = false;
    diag.info(`otlp-mmap: ${this.path} re-created after it was truncated; telemetry resumes`);
  }

  /** Unmaps the file; later writes are ignored. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.refusing = true;
    if (this.watchTimer !== undefined) clearInterval(this.watchTimer);
    if (this.recreateTimer !== undefined) clearTimeout(this.recreateTimer);
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
