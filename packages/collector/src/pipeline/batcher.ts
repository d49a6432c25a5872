/**
 * Collects items into batches of at most `size`; a partial batch is shipped
 * once its first item is `timeoutMs` old (checked by {@link poll}).
 */
export class Batcher<T> {
  private items: T[] = [];
  /** When the first item of the batch came (a clock reading from the start: see ActiveSpans.open). */
  private firstAt: number;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
    private readonly ship: (items: T[]) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.firstAt = now();
  }

  get length(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (this.items.length === 0) this.firstAt = this.now();
    this.items.push(item);
    if (this.items.length >= this.size) this.flush();
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
