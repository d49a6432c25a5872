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
import { setFlagsFromString } from 'node:v8';

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
