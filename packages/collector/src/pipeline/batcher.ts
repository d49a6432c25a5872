/**
 * Collects items into batches of at most `size` (or the lower {@link limit}
 * set since); a partial batch is shipped once its first item is `timeoutMs`
 * old (checked by {@link poll}).
 */
export class Batcher<T> {
  private items: T[] = [];
  private max: number;
  /** When the first item of the batch came (a clock reading from the start: see ActiveSpans.open). */
  private firstAt: number;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
    private readonly ship: (items: T[]) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.firstAt = now();
    this.max = size;
  }

  /**
   * Ships batches of at most `items` from now on (never more than `size`,
   * at least 1): what the destination's byte cap allows, by the sizes of
   * the items seen so far. A batch already that long is shipped.
   */
  limit(items: number): void {
    this.max = Math.max(1, Math.min(this.size, Math.floor(items)));
    if (this.items.length >= this.max) this.flush();
  }

  get length(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (this.items.length === 0) this.firstAt = this.now();
    this.items.push(item);
    if (this.items.length >= this.max) this.flush();
  }

  addAll(items: readonly T[]): void {
    for (const item of items) this.add(item);
  }

  /** Ships the partial batch when it has waited long enough. */
  poll(): void {
    if (this.items.length > 0 && this.now() - this.firstAt >= this.timeoutMs) this.flush();
  }

  /** Ships whatever is collected. */
  flush(): void {
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    this.ship(batch);
  }
}
