/**
 * The counts of one sign (positive or negative) of an exponential histogram:
 * a contiguous window of bucket indexes `[indexStart, indexEnd]` stored in a
 * circular array, so growing the window downwards or upwards never shifts
 * the counts. The owner keeps the window within its `maxSize`.
 *
 * @internal
 */
export class Buckets {
  private counts: Float64Array = EMPTY;
  /** Bucket index stored at array position 0 (positions wrap around). */
  private indexBase = 0;
  private start = 0;
  private end = -1;

  /** Number of buckets in the window (0 when nothing was recorded). */
  get length(): number {
    return this.end - this.start + 1;
  }

  /** First index of the window (meaningful only when `length > 0`). */
  get indexStart(): number {
    return this.start;
  }

  /** Last index of the window (meaningful only when `length > 0`). */
  get indexEnd(): number {
    return this.end;
  }

  /** Count of bucket `index` (0 outside the window). */
  at(index: number): number {
    if (index < this.start || index > this.end) return 0;
    return this.counts[this.position(index)];
  }

  /** Whether `index` can be added with the window staying within `maxSize` buckets. */
  fits(index: number, maxSize: number): boolean {
    if (this.length === 0) return true;
    const low = Math.min(index, this.start);
    const high = Math.max(index, this.end);
    return high - low + 1 <= maxSize;
  }

  /** Adds `by` to bucket `index`, widening the window as needed. */
  increment(index: number, by: number): void {
    if (this.length === 0) {
      if (this.counts.length === 0) this.counts = new Float64Array(4);
      this.indexBase = this.start = this.end = index;
    } else if (index < this.start) {
      this.reserve(this.end - index + 1);
      this.start = index;
    } else if (index > this.end) {
      this.reserve(index - this.start + 1);
      this.end = index;
    }
    this.counts[this.position(index)] += by;
  }

  /** Merges each run of 2^`by` adjacent buckets into one (index >> by). */
  downscale(by: number): void {
    if (by <= 0 || this.length === 0) return;
    const old = this.counts;
    const oldBase = this.indexBase;
    const oldStart = this.start;
    const oldEnd = this.end;
    const counts = new Float64Array(old.length);
    const start = oldStart >> by;
    for (let index = oldStart; index <= oldEnd; index++) {
      const from = positionIn(index, oldBase, old.length);
      counts[(index >> by) - start] += old[from];
    }
    this.counts = counts;
    this.indexBase = start;
    this.start = start;
    this.end = oldEnd >> by;
  }

  /** The counts from `indexStart` to `indexEnd`, for OTLP. */
  toArray(): bigint[] {
    const out: bigint[] = new Array(this.length);
    for (let index = this.start, i = 0; index <= this.end; index++, i++) {
      out[i] = BigInt(this.counts[this.position(index)]);
    }
    return out;
  }

  private position(index: number): number {
    return positionIn(index, this.indexBase, this.counts.length);
  }

  /** Makes room for a window of `size` buckets, keeping every count at its index. */
  private reserve(size: number): void {
    if (size <= this.counts.length) return;
    let capacity = this.counts.length * 2;
    while (capacity < size) capacity *= 2;
    const counts = new Float64Array(capacity);
    for (let index = this.start, i = 0; index <= this.end; index++, i++) {
      counts[i] = this.counts[this.position(index)];
    }
    this.counts = counts;
    this.indexBase = this.start;
  }
}

const EMPTY = new Float64Array(0);

function positionIn(index: number, base: number, capacity: number): number {
  const offset = (index - base) % capacity;
  return offset < 0 ? offset + capacity : offset;
}
