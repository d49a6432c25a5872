/**
 * V8 garbage-collector settings of the collector process (the command only:
 * embedding the collector as a library leaves the host's settings alone).
 *
 * The collector's objects are short-lived by construction: a span lives from
 * its StartSpan until its batch is encoded, a few read cycles. V8's
 * incremental marking defeats that: once the first incremental major GC has
 * run, every young collection promotes megabytes of these short-lived
 * objects to the old generation, so the process spends much of its time in
 * GC, runs more major GCs and holds more memory. Without incremental marking
 * the collector benchmark (bench/collector.ts) needs markedly less CPU and
 * RSS; the figures are in the package README's benchmark section.
 *
 * The price: a major GC marks in one (parallel) pause instead of in steps.
 * The collector's live heap is usually small (spans live a few read cycles)
 * and such pauses short, but they grow with it (with 100,000 open spans, the
 * default `--max-active-spans`), time in which the rings fill without being
 * drained.
 *
 * An explicit choice given to node (`--incremental-marking` or
 * `--no-incremental-marking`, on the command line or in NODE_OPTIONS) wins.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The V8 flags the collector sets, unless node was given a choice for them. */
export const COLLECTOR_V8_FLAGS: readonly string[] = ['--no-incremental-marking'];

/** Whether node was started with an explicit setting of `flag` (either polarity). */
export function hasExplicitFlag(flag: string, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const name = flag.replace(/^--(no-)?/, '').replaceAll('_', '-');
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return given.some((arg) => {
    const bare = arg.split('=')[0].replaceAll('_', '-');
    return bare === `--${name}` || bare === `--no-${name}`;
  });
}

/**
 * Applies {@link COLLECTOR_V8_FLAGS} (before the collector allocates its
 * working set; V8 reads this flag whenever it considers starting a major GC).
 * Returns the flags applied.
 */
export function tuneGarbageCollector(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): string[] {
  const applied = COLLECTOR_V8_FLAGS.filter((flag) => !hasExplicitFlag(flag, execArgv, nodeOptions));
  for (const flag of applied) setFlagsFromString(flag);
  return applied;
}

/** The young generation the collector wants from the start: what `--min-semi-space-size=16` gives. */
export const YOUNG_GENERATION_BYTES = 16 * 1024 * 1024;

function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Grows V8's young generation to {@link YOUNG_GENERATION_BYTES} when node
 * was started without `--min-semi-space-size` (`node packages/collector`
 * rather than the `otlp-mmap-collector` command, whose shebang gives the
 * flag), which cannot be set once node runs: V8 grows the young
 * generation when many objects survive young collections, so short-lived
 * objects kept alive for a few of them make it grow as the flag would, at
 * a one-time cost of some milliseconds. Unlike the flag, V8 may shrink it
 * again when the collector idles. Returns whether it grew.
 */
export function growYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  if (youngGenerationBytes() >= YOUNG_GENERATION_BYTES) return false;
  if (['--min-semi-space-size', '--max-semi-space-size'].some((flag) => hasExplicitFlag(flag, execArgv, nodeOptions))) return false;
  let survivors: object[] = [];
  for (let round = 0; round < 64 && youngGenerationBytes() < YOUNG_GENERATION_BYTES; round++) {
    for (let i = 0; i < 20_000; i++) survivors.push({ round, i });
    if (survivors.length > 200_000) survivors = survivors.slice(100_000);
  }
  return youngGenerationBytes() >= YOUNG_GENERATION_BYTES;
}
