import { getHeapSpaceStatistics } from 'node:v8';

/**
 * The default `--read-batch`, from the size V8's young generation has when
 * the collector starts. With plain `node` it starts small and grows slowly:
 * the spans of a large read outlive two young collections and are promoted,
 * and the old generation (RSS) grows in bursts, less so with smaller reads.
 * With `--min-semi-space-size=16` (the `otlp-mmap-collector` command) it
 * starts at 16 MB, and larger reads cost less CPU per span. (The benchmark
 * runs behind this choice are in the package README.)
 */
export function defaultReadBatch(youngGenerationBytes = startingYoungGeneration()): number {
  // Plain node's young generation has grown some by the time the
  // configuration is read (module loading), but stays below the 16 MB that
  // only the flag gives.
  return youngGenerationBytes >= 16 * 1024 * 1024 ? 1024 : 256;
}

function startingYoungGeneration(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}
