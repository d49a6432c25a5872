/**
 * What the Node fuzz runs its inputs through, and what it checks of each:
 *
 * - `runPipeline`: ring messages and a dictionary, in memory, through the collector's Pipeline (the
 *   ring decoders of @otlp-mmap/protocol, the span, log and measurement paths, FileDictionary, the
 *   metrics aggregation) and the OTLP encoders (protobuf and JSON);
 * - `runDump`: a whole file, through `dump` as the command runs it (the binding's Reader, the JSON-lines
 *   output), in this process.
 *
 * Both report a problem (a string) when an error escapes, when a record is lost without being counted
 * under a named reason (the accounting rule of the collector README), or when a record was counted as
 * `failed` (an error was caught, which is a bug). Time and memory are watched by the runner.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CollectorError, dump, parseConfig } from '@otlp-mmap/collector';
import { FileDictionary, type DictionarySource } from '../../packages/collector/src/dictionary/file-dictionary.js';
import { Pipeline, type SignalSinks } from '../../packages/collector/src/pipeline/pipeline.js';
import type { otlpLogsService, otlpTraceService } from '@otlp-mmap/protocol';
import { MetricsAggregator } from '../../packages/collector/src/metrics/index.js';
import { CODECS, type ExportRequest } from '../../packages/collector/src/otlp/signals.js';
import { parseStatus, tallyJsonLines } from '../helpers/accounting.js';
import { varint } from './mutate.js';

/** Ring messages and the dictionary (the file's bytes up to its end) they refer to. */
export interface PipelineInput {
  readonly messages: readonly (readonly Uint8Array[])[];
  readonly dictionary: Uint8Array;
  readonly firstEntry: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A dictionary in memory, read as the binding reads one: a reference is an offset; the entry there is a varint length, then the bytes. */
export class MemoryDictionary implements DictionarySource {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly first: number,
  ) {}

  entry(ref: number): Uint8Array {
    if (ref === 0) return new Uint8Array(0);
    const bytes = this.bytes;
    if (!Number.isSafeInteger(ref) || ref < this.first || ref >= bytes.length) throw new Error(`reference ${ref} is outside the dictionary`);
    let length = 0;
    let scale = 1;
    let at = ref;
    for (let i = 0; ; i++) {
      if (at >= bytes.length || i === 10) throw new Error(`entry ${ref}: length runs past the dictionary`);
      const b = bytes[at++];
      length += (b & 127) * scale;
      if (b < 128) break;
      scale *= 128;
    }
    if (at + length > bytes.length) throw new Error(`entry ${ref}: ${length} bytes run past the dictionary`);
    return bytes.slice(at, at + length);
  }

  string(ref: number): string {
    return utf8.decode(this.entry(ref));
  }
}

/** A Reader whose rings hold the given messages, framed as the binding frames a read batch. */
function memoryReader(messages: readonly (readonly Uint8Array[])[]) {
  const next = [0, 0, 0];
  // Slots as large as the largest message: the pipeline learns from them when a read may have stopped at its byte bound.
  const slot = { bufferSize: Math.max(16, ...messages.flat().map((m) => m.length + 5)) };
  return {
    info: () => ({ events: slot, spans: slot, measurements: slot }),
    read(ring: 0 | 1 | 2, max: number): Buffer {
      const list = messages[ring];
      const parts: Uint8Array[] = [];
      for (let n = 0; n < max && next[ring] < list.length; n++) {
        const m = list[next[ring]++];
        parts.push(varint(m.length), m);
      }
      return Buffer.concat(parts);
    },
  };
}

const PIPELINE_CONFIG = parseConfig(['--input', 'fuzz', '--read-batch', '16', '--batch-size', '64', '--batch-timeout', '100000', '--temporality', 'delta']);

/** Runs one input through a fresh Pipeline; returns what is wrong, if anything. */
export function runPipeline(input: PipelineInput): string | undefined {
  let logRecords = 0;
  let spans = 0;
  let spanEvents = 0;
  const sinks: SignalSinks = {
    hasRoom: () => true,
    submit(signal, request: ExportRequest) {
      // As Exporters does: both encodings must take whatever the pipeline built.
      CODECS[signal].encode(request);
      CODECS[signal].encodeJson(request);
      if (signal === 'logs') {
        for (const rl of (request as otlpLogsService.ExportLogsServiceRequest).resourceLogs) for (const sl of rl.scopeLogs) logRecords += sl.logRecords.length;
      } else if (signal === 'traces') {
        for (const rs of (request as otlpTraceService.ExportTraceServiceRequest).resourceSpans) {
          for (const ss of rs.scopeSpans) {
            for (const span of ss.spans) {
              spans++;
              spanEvents += span.events.length; // droppedEventsCount also holds what the writer dropped (an extension field): see eventsOverCap
            }
          }
        }
      }
    },
  };
  const metrics = new MetricsAggregator({ temporalityPreference: 'delta', startTimeUnixNano: 1n });
  const errors: string[] = [];
  const pipeline = new Pipeline(PIPELINE_CONFIG, new FileDictionary(new MemoryDictionary(input.dictionary, input.firstEntry)), metrics, sinks, (what, error) =>
    errors.push(`${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  );
  const reader = memoryReader(input.messages);
  try {
    while (pipeline.poll(reader as never).read > 0);
    pipeline.flushAll(true);
    pipeline.collectMetrics();
  } catch (error) {
    return `an error escaped the pipeline: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  if (errors.length > 0) return `records failed: ${errors.join('; ')}`;
  const read = pipeline.read.messages;
  const bad = pipeline.read.undecodable;
  const failed = pipeline.read.failed;
  const c = pipeline.spans.counters;
  const m = metrics.stats();
  const dropped = Object.values(m.dropped).reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  for (let ring = 0; ring < 3; ring++)
    if (read[ring] !== input.messages[ring].length) problems.push(`ring ${ring}: ${read[ring]} read of ${input.messages[ring].length}`);
  if (read[0] !== logRecords + spanEvents + c.eventsOverCap + bad[0] + failed[0])
    problems.push(`events: ${read[0]} read, ${logRecords} log records + ${spanEvents} span events exported, ${c.eventsOverCap + bad[0] + failed[0]} counted`);
  if (read[1] !== c.applied + c.invalid + c.unknownSpan + bad[1] + failed[1])
    problems.push(`spans: ${read[1]} read, ${c.applied} applied, ${c.invalid + c.unknownSpan + bad[1] + failed[1]} counted`);
  if (spans !== c.started) problems.push(`spans: ${c.started} started, ${spans} exported`);
  if (read[2] !== m.recorded + dropped + bad[2] + failed[2])
    problems.push(`measurements: ${read[2]} read, ${m.recorded} aggregated, ${dropped + bad[2] + failed[2]} counted`);
  if (pipeline.spans.openCount !== 0 || pipeline.spans.endedCount !== 0) problems.push('spans left in the table after the final flush');
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** What one `dump` of a file came to. */
export interface DumpOutcome {
  /** Problem found, if any. */
  readonly problem?: string;
  /** The file was refused with a clean error (it does not validate). */
  readonly refused: boolean;
}

/** Runs `dump` on `file` (written to `dir`) in this process; checks the accounting of its summary line. */
export async function runDump(file: Uint8Array, dir: string): Promise<DumpOutcome> {
  const path = join(dir, 'input.otlp-mmap');
  const out = join(dir, 'out.jsonl');
  writeFileSync(path, file);
  rmSync(out, { force: true });
  const config = parseConfig(['dump', path, '--output', out, '--uncommitted-timeout', '5', '--temporality', 'delta', '--shutdown-timeout', '5000']);
  const lines: string[] = [];
  const deps = {
    log: (line: string) => lines.push(line),
    createMetrics: (startTimeUnixNano: bigint) => new MetricsAggregator({ temporalityPreference: 'delta', startTimeUnixNano }),
  };
  try {
    await dump(config, deps);
  } catch (error) {
    if (error instanceof CollectorError && error.message.startsWith(`cannot read ${path}`)) return { refused: true };
    return { refused: false, problem: `dump threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` };
  }
  const failures = lines.filter((l) => l.includes(' failed: '));
  if (failures.length > 0) return { refused: false, problem: `records failed: ${failures.join('; ')}` };
  const summary = lines.filter((l) => l.startsWith('dump ')).at(-1);
  if (summary === undefined) return { refused: false, problem: `no summary line: ${lines.join(' | ')}` };
  const status = parseStatus(summary);
  let text = '';
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    // nothing exported
  }
  const tally = tallyJsonLines(
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
  const f = (key: string): number => status[key] ?? 0;
  const problems: string[] = [];
  for (const signal of ['traces', 'logs', 'metrics'])
    if (f(`dropped_${signal}`) !== 0) problems.push(`${f(`dropped_${signal}`)} ${signal} items dropped at export`);
  for (const ring of ['events', 'spans', 'measurements']) if (f(`failed_${ring}`) !== 0) problems.push(`failed_${ring}=${f(`failed_${ring}`)}`);
  // The span events exported; those over the per-span cap are counted apart (a span's droppedEventsCount also holds the writer's drops).
  const spanEvents = tally.spans.reduce((n, s) => n + s.exportedEvents, 0);
  if (f('read_events') !== tally.logRecords + spanEvents + f('span_events_over_cap') + f('undecodable_events')) {
    problems.push(
      `events: ${f('read_events')} read, ${tally.logRecords} log records + ${spanEvents} span events exported, ${f('span_events_over_cap') + f('undecodable_events')} counted`,
    );
  }
  let measurementDrops = 0;
  for (const [key, value] of Object.entries(status)) {
    if (key.startsWith('measurements_') && key !== 'measurements_per_s' && key !== 'measurements_aggregated') measurementDrops += value;
  }
  if (f('read_measurements') !== f('measurements_aggregated') + measurementDrops + f('undecodable_measurements')) {
    problems.push(
      `measurements: ${f('read_measurements')} read, ${f('measurements_aggregated')} aggregated, ${measurementDrops + f('undecodable_measurements')} counted`,
    );
  }
  const spanLosses = f('undecodable_spans') + f('invalid_spans') + f('unknown_span_updates');
  if (tally.spans.length + spanLosses > f('read_spans'))
    problems.push(`spans: ${tally.spans.length} exported and ${spanLosses} counted of ${f('read_spans')} read`);
  return { refused: false, problem: problems.length > 0 ? `${problems.join('; ')} [${summary}]` : undefined };
}
