/**
 * What every span of one provider shares: the file, the limits, the sampler.
 *
 * @internal
 */
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import type { ResolvedSpanLimits } from '../config.js';
import type { MmapFile } from '../file/mmap-file.js';

export interface TraceShared {
  readonly file: MmapFile;
  readonly limits: ResolvedSpanLimits;
  readonly sampler: Sampler;
  /** The sampler is the default ParentBased(AlwaysOn): decide without calling it. */
  readonly defaultSampler: boolean;
}
