import { existsSync, statSync } from 'node:fs';
import type { CollectorConfig } from './config/config.js';
import { FileDictionary } from './dictionary/file-dictionary.js';
import { Exporters } from './export/exporters.js';
import { TlsFileError } from './export/tls.js';
import { errorCode, openReader, type FileInfo, type MmapReader, type ReaderStats } from './file/native-reader.js';
import { MetricsAggregator } from './metrics/index.js';
import { Pipeline, type MetricsSink } from './pipeline/pipeline.js';
import { collectStats, type CollectorStats } from './stats/collector-stats.js';
import { addRingCounters, statusLine, type RingCounters, type StatusSnapshot } from './stats/status-line.js';
import { SelfTelemetry } from './telemetry/self-telemetry.js';

/** A failure that ends the collector with one line and a non-zero exit. */
export class CollectorError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CollectorError';
  }
}

/** What a collector run gets from outside; every member has a default. */
export interface CollectorDeps {
  /** Where diagnostics go, one line each. Default: stderr, each line prefixed with `otlp-mmap-collector: `. */
  readonly log?: (line: string) => void;
  /**
   * A fresh metrics aggregation for one file. Default: the aggregation the
   * configuration asks for (`temporality`, `cardinalityLimit`).
   *
   * @internal
   */
  readonly createMetrics?: (fileStartTimeUnixNano: bigint) => MetricsSink;
}

/** `deps`, with the defaults for what it leaves out. */
function withDefaults(config: CollectorConfig, deps: CollectorDeps): Required<CollectorDeps> {
  return {
    log: deps.log ?? ((line) => process.stderr.write(`otlp-mmap-collector: ${line}\n`)),
    createMetrics:
      deps.createMetrics ??
      ((startTimeUnixNano) =>
        new MetricsAggregator({ temporalityPreference: config.temporality, cardinalityLimit: config.cardinalityLimit, startTimeUnixNano })),
  };
}

/** How long a file that exists but does not validate is given to finish its initialisation. */
const INIT_GRACE_MS = 2000;

/** The longest wait between two looks for an input file that is missing or not yet initialised. */
const FILE_POLL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** A log that writes each distinct line once (at most `max` distinct lines). */
function onceEach(log: (line: string) => void, max = 100): (line: string) => void {
  const seen = new Set<string>();
  return (line) => {
    if (seen.has(line) || seen.size >= max) return;
    seen.add(line);
    log(line);
  };
}

/** An opened input file, and the identity (see {@link fileIdentity}) the path had just before it was opened. */
interface OpenedFile {
  readonly reader: MmapReader;
  readonly identity: string | undefined;
}

/** The input file as it was when it was found cut shorter (see {@link Collector.followTruncation}). */
interface CutFile {
  readonly identity: string | undefined;
  readonly size: number;
  /** Called on every look while waiting (counts what the cut file still shows). */
  readonly onWait: () => void;
}

/** Whether `error` is the binding's report of a file cut shorter while it was mapped. */
function isTruncation(error: unknown): boolean {
  return errorCode(error) === 'ERR_FILE_TRUNCATED';
}

/**
 * Opens the input file, waiting for it to appear and to validate. The
 * path's identity is taken before opening: should another file replace it
 * in between, the next look at the path sees a change and the collector
 * reopens (taken after, the replacement would go unnoticed).
 *
 * After a truncation (`cut`), the cut file does not validate and may stay so
 * until its writer re-creates it: the grace for a file that does not
 * validate starts only once the path shows something else than the cut file
 * (another size or another file).
 */
async function openWhenReady(config: CollectorConfig, shouldStop: () => boolean, cut?: CutFile): Promise<OpenedFile | undefined> {
  const started = Date.now();
  let seenAt: number | undefined;
  for (;;) {
    if (shouldStop()) return undefined;
    cut?.onWait();
    if (existsSync(config.input)) {
      seenAt ??= Date.now();
      try {
        const identity = fileIdentity(config.input);
        return { reader: openReader(config.input, config.uncommittedTimeoutMs), identity };
      } catch (error) {
        if (cut !== undefined && stillCut(config.input, cut)) seenAt = Date.now();
        else if (Date.now() - seenAt >= INIT_GRACE_MS) throw new CollectorError(`cannot read ${config.input}: ${describe(error)}`);
      }
    } else {
      seenAt = undefined;
    }
    if (config.waitTimeoutMs > 0 && Date.now() - started >= config.waitTimeoutMs) {
      throw new CollectorError(`${config.input} did not ${cut ? 'come back after it was truncated' : 'appear'} within ${config.waitTimeoutMs} ms`);
    }
    // Looks for the file as often as for new data, at most every 50 ms.
    await sleep(Math.min(FILE_POLL_MS, config.pollIntervalMs));
  }
}

/** Whether `path` still shows the file as it was cut: the same file, no larger. */
function stillCut(path: string, cut: CutFile): boolean {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.dev}:${stat.ino}` === cut.identity && stat.size <= BigInt(cut.size);
  } catch {
    return false;
  }
}

/** Which file `path` names now (device and inode), or undefined when there is none. */
function fileIdentity(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

/** The exporters of `config`; a TLS file that cannot be used ends the start with one line. */
function createExporters(config: CollectorConfig, log: (line: string) => void): Exporters {
  try {
    return new Exporters(config, log);
  } catch (error) {
    if (error instanceof TlsFileError) throw new CollectorError(error.message);
    throw error;
  }
}

/**
 * The long-running collector: reads the file until stopped, exports through
 * the configured exporters, follows file re-initialisations, and on stop
 * drains the rings and flushes everything in flight (bounded by
 * `shutdownTimeoutMs`). With `selfMetrics`, it also exports metrics of its
 * own at each metric collection, and once more at the end, with the
 * numbers of the final status line.
 *
 * @example
 * ```ts
 * const collector = new Collector(parseConfig(['--input', '/dev/shm/app.otlp-mmap', '--endpoint', 'http://localhost:4318']));
 * const done = collector.run();
 * process.once('SIGTERM', () => collector.stop());
 * await done;
 * ```
 */
export class Collector {
  private readonly deps: Required<CollectorDeps>;
  private readonly exporters: Exporters;
  private readonly telemetry: SelfTelemetry | undefined;
  private pipeline: Pipeline | undefined;
  private reader: MmapReader | undefined;
  /** The identity (see fileIdentity) of the file the reader maps. */
  private readerFile: string | undefined;
  /** The start time of the file the reader maps, as seen when it was opened. */
  private readerStart = 0n;
  /** When the input path was last compared with {@link readerFile}. */
  private lastIdentityCheck = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private snapshot: StatusSnapshot = { at: Date.now(), messages: [0, 0, 0] };
  /** Reader counters of the files read before the current one (re-initialisations). */
  private retiredStats: RingCounters | undefined;

  /**
   * @param config what to read and where to export (see {@link parseConfig}).
   * @param deps where diagnostics go (default: stderr).
   */
  constructor(
    private readonly config: CollectorConfig,
    deps: CollectorDeps = {},
  ) {
    this.deps = withDefaults(config, deps);
    this.exporters = createExporters(config, (line) => this.deps.log(line));
    this.telemetry = config.selfMetrics ? new SelfTelemetry(config, this.exporters) : undefined;
  }

  /** Asks the run loop to finish (SIGTERM/SIGINT): it drains the rings, flushes, and {@link run} resolves. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /**
   * Runs until {@link stop}: waits for the input file, reads it, exports;
   * resolves after the final flush. Rejects with a {@link CollectorError}
   * when it cannot go on (the output cannot be opened, the file never
   * appears within `waitTimeoutMs`, or does not validate).
   */
  async run(): Promise<void> {
    try {
      await this.exporters.ready();
    } catch (error) {
      throw new CollectorError(`cannot open --output ${this.config.output}: ${describe(error)}`);
    }
    const opened = await openWhenReady(this.config, () => this.stopping);
    if (!opened) {
      await this.exporters.close();
      return;
    }
    this.reader = opened.reader;
    this.readerFile = opened.identity;
    this.readerStart = this.reader.info().startTimeUnixNano;
    const pipeline = new Pipeline(this.config, new FileDictionary(this.reader), this.deps.createMetrics(this.readerStart), this.exporters, (what, error) =>
      this.reportOnce(`${what} failed: ${describe(error)}`),
    );
    this.pipeline = pipeline;

    const timers: NodeJS.Timeout[] = [];
    timers.push(
      setInterval(() => {
        this.guard('metric collection', () => pipeline.collectMetrics());
        this.exportSelfMetrics();
      }, this.config.metricIntervalMs),
    );
    if (this.config.statsIntervalMs > 0) timers.push(setInterval(() => this.printStatus('stats'), this.config.statsIntervalMs));

    let fatal: unknown;
    /** When the reads started finding nothing (undefined: the last read found something). */
    let emptySince: number | undefined;
    try {
      while (!this.stopping && this.reader) {
        const reader = this.reader;
        let reset: boolean;
        try {
          reset = reader.isReset();
        } catch (error) {
          if (!isTruncation(error)) throw error;
          await this.followTruncation(pipeline);
          continue;
        }
        if (reset) {
          await this.followReset(pipeline);
          continue;
        }
        let truncated = false;
        const result = this.guard('reading', () => {
          try {
            return pipeline.poll(reader);
          } catch (error) {
            if (!isTruncation(error)) throw error;
            truncated = true;
            return undefined;
          }
        });
        if (truncated) {
          await this.followTruncation(pipeline);
          continue;
        }
        if (result?.more) {
          emptySince = undefined;
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        // Caught up with this file: is it still the one at the input path?
        if (this.replacedOnDisk()) {
          await this.followReset(pipeline);
          continue;
        }
        // The rings stay empty: wait a quarter of how long they have been empty, from --poll-interval
        // up to --max-poll-interval (an idle collector costs little CPU, and a message that ends a quiet
        // spell waits at most about a quarter of it); something read: wait --poll-interval again.
        const now = Date.now();
        emptySince = (result?.read ?? 0) > 0 ? undefined : (emptySince ?? now);
        const quiet = emptySince === undefined ? 0 : now - emptySince;
        await this.idle(Math.min(this.config.maxPollIntervalMs, Math.max(this.config.pollIntervalMs, quiet / 4)));
      }
    } catch (error) {
      fatal = error;
    } finally {
      for (const t of timers) clearInterval(t);
    }
    // Whatever ended the loop, ship what is already in memory before leaving.
    await this.shutdown(pipeline);
    if (fatal !== undefined) throw fatal;
  }

  /** Unexpected errors, reported once per distinct message (not per poll). */
  private readonly reportOnce = onceEach((line) => this.deps.log(line));

  /**
   * Runs one step; an unexpected error is reported once per distinct message
   * (not per poll) and the collector goes on.
   */
  private guard<T>(what: string, step: () => T): T | undefined {
    try {
      return step();
    } catch (error) {
      this.reportOnce(`${what} failed: ${describe(error)}`);
      return undefined;
    }
  }

  /**
   * Whether another file now stands at the input path (a writer that
   * deleted or renamed the old file and created its own: the old mapping
   * never sees that writer's start time). A missing path is not a
   * replacement: a writer may still be writing the unlinked file. Looked
   * at as often as for new data, at most every {@link FILE_POLL_MS} (as
   * `openWhenReady` looks for a missing file).
   */
  private replacedOnDisk(): boolean {
    const now = Date.now();
    if (now - this.lastIdentityCheck < Math.min(FILE_POLL_MS, this.config.pollIntervalMs)) return false;
    this.lastIdentityCheck = now;
    const identity = fileIdentity(this.config.input);
    return identity !== undefined && identity !== this.readerFile;
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /**
   * The file was re-initialised by a new writer, in place or by putting a
   * new file at the path. If it was replaced (another inode), the old
   * mapping still holds the old data: drain it. Then flush everything from
   * the old file (open spans as incomplete, metrics), and reopen.
   */
  private async followReset(pipeline: Pipeline): Promise<void> {
    const old = this.reader!;
    const replaced = fileIdentity(this.config.input) !== this.readerFile;
    this.deps.log(`${this.config.input} was ${replaced ? 'replaced' : 're-initialised'} by a new writer; flushing and reopening`);
    if (replaced) {
      for (let i = 0; i < 1000 && (this.guard('reading', () => pipeline.poll(old))?.read ?? 0) > 0; i++);
      // What the old file still holds is lost with it: counted.
      const info = this.guard('reading the old file', () => old.info());
      if (info) {
        [info.events, info.spans, info.measurements].forEach((ring, i) => {
          pipeline.read.abandoned[i] += Math.max(0, ring.writerIndex - ring.readerIndex);
        });
      }
    }
    pipeline.flushAll(true);
    pipeline.collectMetrics();
    pipeline.read.resets++;
    this.retiredStats = addRingCounters(
      this.retiredStats,
      this.guard('reading counters', () => old.stats()),
    );
    old.close();
    this.reader = undefined; // closed: if no new file opens, shutdown has nothing left to read
    const opened = await openWhenReady(this.config, () => this.stopping);
    if (!opened) return;
    const reader = opened.reader;
    this.reader = reader;
    this.readerFile = opened.identity;
    this.readerStart = reader.info().startTimeUnixNano;
    pipeline.useFile(new FileDictionary(reader), this.deps.createMetrics(this.readerStart));
  }

  /**
   * The file was cut shorter by another program while it was read (the
   * binding reported ERR_FILE_TRUNCATED instead of dying of SIGBUS). One
   * line; flush what came from the file (open spans as incomplete, metrics)
   * as for a re-initialisation; then wait, without a deadline, for a writer
   * to re-create the file at the path, counting meanwhile the messages the
   * cut file shows were written and never read; then read the new file.
   */
  private async followTruncation(pipeline: Pipeline): Promise<void> {
    const old = this.reader!;
    const startTime = this.readerStart;
    this.reader = undefined; // no status line reads the cut mapping
    let loss = old.truncation();
    const fileSize = loss?.fileSize ?? 0;
    const unknown = loss?.unread.some((n) => n < 0) ? ' (not counted: rings whose header did not survive the cut)' : '';
    this.deps.log(
      `${this.config.input} was truncated by another program while being read (${fileSize} bytes, it had ${loss?.knownSize ?? '?'}): ${loss?.knownLost ?? 0} unread messages lost so far${unknown}; waiting for a writer to re-create it`,
    );
    pipeline.flushAll(true);
    pipeline.collectMetrics();
    pipeline.read.truncations++;
    let opened: OpenedFile | undefined;
    try {
      const cut: CutFile = { identity: this.readerFile, size: fileSize, onWait: () => (loss = old.truncation() ?? loss) };
      opened = await openWhenReady(this.config, () => this.stopping, cut);
    } finally {
      old.close();
    }
    // The same file came back valid (cut only in its free tail): reading goes on from where it stopped.
    const sameFile = opened !== undefined && opened.reader.info().startTimeUnixNano === startTime;
    if (!sameFile) pipeline.read.lostOnTruncation += loss?.knownLost ?? 0;
    if (!opened) return;
    this.reader = opened.reader;
    this.readerFile = opened.identity;
    this.readerStart = opened.reader.info().startTimeUnixNano;
    pipeline.useFile(new FileDictionary(opened.reader), this.deps.createMetrics(this.readerStart));
  }

  private async shutdown(pipeline: Pipeline): Promise<void> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const reader = this.reader;
    if (reader) {
      // Drain what the rings hold now; stop early if export backpressure or the deadline stops progress.
      while (Date.now() < deadline && (this.guard('reading', () => pipeline.poll(reader))?.read ?? 0) > 0);
    }
    this.guard('flushing', () => pipeline.flushAll(true));
    this.guard('metric collection', () => pipeline.collectMetrics());
    await this.exporters.drain(deadline);
    // The final status line and the last of the collector's own metrics tell the same numbers.
    const stats = this.printStatus('final');
    if (stats !== undefined && this.exportSelfMetrics(stats)) await this.exporters.drain(deadline);
    await this.exporters.close();
    reader?.close();
    this.reader = undefined;
  }

  /** The collector's numbers now (undefined before a file was opened). */
  private stats(): CollectorStats | undefined {
    if (!this.pipeline) return undefined;
    let info: FileInfo | undefined;
    let stats: ReaderStats | undefined;
    try {
      info = this.reader?.info();
      stats = this.reader?.stats();
    } catch {
      // The reader may be closed during a reset.
    }
    return collectStats(this.pipeline, this.exporters, info, addRingCounters(this.retiredStats, stats));
  }

  /** Prints a status line; returns the numbers it printed. */
  private printStatus(label: string): CollectorStats | undefined {
    const stats = this.stats();
    if (stats === undefined) return undefined;
    const { line, snapshot } = statusLine(label, stats, this.snapshot);
    this.snapshot = snapshot;
    this.deps.log(line);
    return stats;
  }

  /** Queues the collector's own metrics (with `--self-metrics`); whether anything was queued. */
  private exportSelfMetrics(stats = this.stats()): boolean {
    const telemetry = this.telemetry;
    if (telemetry === undefined || stats === undefined) return false;
    return this.guard("the collector's own metrics", () => telemetry.export(stats)) ?? false;
  }
}

/** Exit code of `dump` when its file was truncated while it read it: the output is partial. */
export const EXIT_TRUNCATED = 3;

/**
 * `dump`: reads every ring of a file to its end once, converts all of it
 * (open spans marked incomplete) and writes OTLP JSON lines, then returns.
 * The file is opened and mapped read-only and never written: `dump` works
 * on a file it may only read, consumes nothing (reader_index stays), and
 * leaves the evidence as it was.
 *
 * A file cut shorter by another program while `dump` reads it ends the
 * reading: what was read before is converted and written as usual, the
 * summary line counts the truncation and the messages known lost, and
 * `dump` fails with one line and exit code {@link EXIT_TRUNCATED}.
 *
 * @param config what to read and where to write, as
 *   `parseConfig(['dump', file, ...])` gives it (every signal to JSON lines).
 * @param deps where diagnostics and the summary line go (default: stderr).
 */
export async function dump(config: CollectorConfig, given: CollectorDeps = {}): Promise<void> {
  const deps = withDefaults(config, given);
  if (!existsSync(config.input)) throw new CollectorError(`cannot read ${config.input}: no such file`);
  let reader: MmapReader;
  try {
    reader = openReader(config.input, config.uncommittedTimeoutMs, true);
  } catch (error) {
    throw new CollectorError(`cannot read ${config.input}: ${describe(error)}`);
  }
  const exporters = createExporters(config, deps.log);
  try {
    await exporters.ready();
  } catch (error) {
    reader.close();
    throw new CollectorError(`cannot open --output ${config.output}: ${describe(error)}`);
  }
  const reportOnce = onceEach(deps.log);
  const pipeline = new Pipeline(config, new FileDictionary(reader), deps.createMetrics(reader.info().startTimeUnixNano), exporters, (what, error) =>
    reportOnce(`${what} failed: ${describe(error)}`),
  );
  const lagging = (): boolean => {
    const info = reader.info();
    return [info.events, info.spans, info.measurements].some((r) => r.writerIndex > r.readerIndex);
  };
  let idleSince = Date.now();
  let truncated = false;
  for (;;) {
    let read: number;
    try {
      read = pipeline.poll(reader).read;
    } catch (error) {
      if (!isTruncation(error)) throw error;
      truncated = true;
      break;
    }
    if (read > 0) {
      idleSince = Date.now();
      // Let the export queues make room; the JSON-lines output drains quickly.
      if (!exporters.hasRoom('traces') || !exporters.hasRoom('logs')) await sleep(1);
      continue;
    }
    if (!exporters.hasRoom('traces') || !exporters.hasRoom('logs')) {
      await sleep(1);
      continue;
    }
    // A claimed but uncommitted slot is skipped by the binding after its timeout (FORMAT.md 7.8).
    if (lagging() && Date.now() - idleSince <= config.uncommittedTimeoutMs + 500) {
      await sleep(20);
      continue;
    }
    break;
  }
  const loss = truncated ? reader.truncation() : null;
  if (truncated) {
    pipeline.read.truncations++;
    pipeline.read.lostOnTruncation += loss?.knownLost ?? 0;
  }
  pipeline.flushAll(true);
  pipeline.collectMetrics();
  await exporters.drain(Date.now() + config.shutdownTimeoutMs);
  // A cut file's ring headers are gone or stale: no lag fields then.
  const stats = collectStats(pipeline, exporters, truncated ? undefined : reader.info(), reader.stats());
  const { line } = statusLine('dump', stats, { at: Date.now(), messages: [0, 0, 0] });
  deps.log(line);
  await exporters.close();
  reader.close();
  if (truncated) {
    const unknown = loss?.unread.some((n) => n < 0) ? ', more in rings whose header was cut off' : '';
    throw new CollectorError(
      `${config.input} was truncated by another program while dump read it (${loss?.fileSize ?? '?'} bytes, it had ${loss?.knownSize ?? '?'}): what was read before is written; ${loss?.knownLost ?? 0} messages known lost${unknown}`,
      EXIT_TRUNCATED,
    );
  }
}
