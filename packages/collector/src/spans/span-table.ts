/**
 * The spans of the collector by identity — (trace id, span id) — in the order
 * they were added.
 *
 * A span message is looked up at least twice (its StartSpan and its EndSpan),
 * so the look-up is kept cheap: the table is keyed by a 30-bit hash of the
 * ids, a small integer, which needs no key string per message and hashes
 * faster than one. Two different spans whose ids hash alike (rare with random
 * ids, but ids come from the application and may be anything) are both
 * kept: the second one goes to an overflow table keyed by the full ids, and
 * every look-up checks the ids it finds.
 */
import { spanKey } from './span-key.js';

/** What the table keeps: an entry holding its span's ids, and the table's own bookkeeping. */
export interface SpanTableEntry {
  readonly span: { readonly traceId: Uint8Array; readonly spanId: Uint8Array };
  /** Where the entry is: {@link OUT} (not in the table), {@link MAIN} or {@link OVERFLOW}. */
  tableSlot: number;
  /** Its key in the main part: the hash of its ids (see {@link idHashAt}). */
  tableHash: number;
  /** Its key in the overflow part: its full ids (see `spanKey`). */
  tableKey: string;
}

export const OUT = 0;
export const MAIN = 1;
export const OVERFLOW = 2;

/** A 30-bit hash (a small integer) of the 16-byte trace id at `t[ta]` and the 8-byte span id at `s[sa]`. */
export function idHashAt(t: Uint8Array, ta: number, s: Uint8Array, sa: number): number {
  let h = 0x2545f491;
  h = Math.imul(h ^ (t[ta] | (t[ta + 1] << 8) | (t[ta + 2] << 16) | (t[ta + 3] << 24)), 0x9e3779b1);
  h = Math.imul(h ^ (t[ta + 4] | (t[ta + 5] << 8) | (t[ta + 6] << 16) | (t[ta + 7] << 24)), 0x85ebca6b);
  h = Math.imul(h ^ (t[ta + 8] | (t[ta + 9] << 8) | (t[ta + 10] << 16) | (t[ta + 11] << 24)), 0xc2b2ae35);
  h = Math.imul(h ^ (t[ta + 12] | (t[ta + 13] << 8) | (t[ta + 14] << 16) | (t[ta + 15] << 24)), 0x9e3779b1);
  h = Math.imul(h ^ (s[sa] | (s[sa + 1] << 8) | (s[sa + 2] << 16) | (s[sa + 3] << 24)), 0x85ebca6b);
  h = Math.imul(h ^ (s[sa + 4] | (s[sa + 5] << 8) | (s[sa + 6] << 16) | (s[sa + 7] << 24)), 0xc2b2ae35);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** Whether `entry`'s span has the ids at `t[ta, ta + 16)` and `s[sa, sa + 8)`. */
function hasIds(entry: SpanTableEntry, t: Uint8Array, ta: number, s: Uint8Array, sa: number): boolean {
  const traceId = entry.span.traceId;
  const spanId = entry.span.spanId;
  for (let i = 0; i < 8; i++) if (spanId[i] !== s[sa + i]) return false;
  for (let i = 0; i < 16; i++) if (traceId[i] !== t[ta + i]) return false;
  return true;
}

/** Additions to the main part after which {@link SpanTable.compact} rebuilds it (or twice its size, if larger). */
const REBUILD_AFTER_ADDS = 4096;

export class SpanTable<E extends SpanTableEntry> {
  private main = new Map<number, E>();
  private readonly overflow = new Map<string, E>();
  /** Additions to the main part since it was last rebuilt. */
  private addsSinceRebuild = 0;

  get size(): number {
    return this.main.size + this.overflow.size;
  }

  /** The entry of the span with the ids at `t[ta, ta + 16)` and `s[sa, sa + 8)`, if any. */
  getAt(t: Uint8Array, ta: number, s: Uint8Array, sa: number): E | undefined {
    const entry = this.main.get(idHashAt(t, ta, s, sa));
    if (entry !== undefined && hasIds(entry, t, ta, s, sa)) return entry;
    return this.overflow.size === 0 ? undefined : this.overflow.get(spanKey(t, ta, s, sa));
  }

  /**
   * Adds `entry` (not in the table) at the end. An entry with the same ids
   * leaves the table and is returned.
   */
  add(entry: E): E | undefined {
    const { traceId, spanId } = entry.span;
    const hash = idHashAt(traceId, 0, spanId, 0);
    const current = this.main.get(hash);
    let previous: E | undefined;
    if (current === undefined || hasIds(current, traceId, 0, spanId, 0)) {
      if (current !== undefined) {
        this.remove(current); // the same span again: the new one goes to the end
        previous = current;
      } else if (this.overflow.size > 0) {
        previous = this.overflow.get(spanKey(traceId, 0, spanId, 0));
        if (previous !== undefined) this.remove(previous);
      }
      this.main.set(hash, entry);
      this.addsSinceRebuild++;
      entry.tableSlot = MAIN;
      entry.tableHash = hash;
      return previous;
    }
    // Another span holds this hash: this one is kept by its full ids.
    const key = spanKey(traceId, 0, spanId, 0);
    previous = this.overflow.get(key);
    if (previous !== undefined) this.remove(previous);
    this.overflow.set(key, entry);
    entry.tableSlot = OVERFLOW;
    entry.tableKey = key;
    return previous;
  }

  /** Takes `entry` out of the table (nothing when it is not in it). */
  remove(entry: E): void {
    if (entry.tableSlot === MAIN) this.main.delete(entry.tableHash);
    else if (entry.tableSlot === OVERFLOW) this.overflow.delete(entry.tableKey);
    entry.tableSlot = OUT;
  }

  /**
   * The entries, in the order they were added within each of the two tables
   * (the overflow one after the main one). Entries may be removed while
   * iterating; entries added meanwhile are visited too.
   */
  *values(): IterableIterator<E> {
    yield* this.main.values();
    yield* this.overflow.values();
  }

  /** Whether some entry sits in the overflow table (see {@link values}: its order is separate). */
  get hasOverflow(): boolean {
    return this.overflow.size > 0;
  }

  /**
   * Copies the main part into a new `Map` once it has taken many entries
   * since the last copy (amortised O(1) per addition). Why: every span goes
   * in and out of the table, so V8 rehashes the `Map` into a new hash table
   * every few thousand additions, and an outgrown table keeps a link to its
   * successor (for iterators) and its old entries. Once one table is in the
   * old generation (a full collection moved it there), it is garbage that
   * young collections take as alive: the chain of tables after it, and every
   * span they held, survives young collections and gets promoted, until the
   * next full collection, which promotes the table of the moment and starts
   * the chain again (over HTTP as over gRPC; the figures are in the README's
   * collector benchmark section). A new `Map` holds no link from the old
   * tables, which cuts the chain.
   *
   * Not while an iterator of {@link values} is in use (it would walk the old
   * `Map`).
   */
  compact(): void {
    if (this.addsSinceRebuild < Math.max(REBUILD_AFTER_ADDS, 2 * this.main.size)) return;
    this.addsSinceRebuild = 0;
    this.main = new Map(this.main);
  }

  clear(): void {
    for (const entry of this.values()) entry.tableSlot = OUT;
    this.main.clear();
    this.overflow.clear();
  }
}
