/**
 * An index's keys in index order, for range scans and sorts: a sorted array, built on first use and then
 * kept up to date by binary insertion (a splice of a few thousand entries costs microseconds).
 *
 * @module
 */
import { compareBson } from "./bson_order.ts";

/** One index key of one document. */
export interface OrderedEntry {
  values: unknown[];
  id: string;
  /** The document's insertion sequence: ties keep insertion order, as mongod's record ids do. */
  seq: number;
}

/** A bound on the field after an equality prefix, in value terms. */
export interface Bound {
  value: unknown;
  inclusive: boolean;
}

/** A range on one field; either side may be open. */
export interface Range {
  lo?: Bound;
  hi?: Bound;
}

/** Entries kept sorted by index key (with each field's direction), then by insertion sequence. */
export class OrderedKeys {
  readonly #directions: number[];
  readonly #entries: OrderedEntry[];

  constructor(directions: number[], entries: OrderedEntry[]) {
    this.#directions = directions;
    this.#entries = entries.sort((a, b) => this.#compare(a, b));
  }

  #compare(a: OrderedEntry, b: OrderedEntry): number {
    for (let i = 0; i < this.#directions.length; i++) {
      const c = compareBson(a.values[i], b.values[i]) * this.#directions[i];
      if (c !== 0) return c;
    }
    return a.seq - b.seq;
  }

  // The first position whose entry satisfies `past` (false for a leading run of entries, true after).
  #search(past: (entry: OrderedEntry) => boolean): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (past(this.#entries[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Adds one entry. */
  add(entry: OrderedEntry): void {
    this.#entries.splice(this.#search((e) => this.#compare(e, entry) > 0), 0, entry);
  }

  /** Removes one entry (matched by values, id and sequence). */
  remove(entry: OrderedEntry): void {
    const at = this.#search((e) => this.#compare(e, entry) >= 0);
    if (at < this.#entries.length && this.#entries[at].id === entry.id) this.#entries.splice(at, 1);
  }

  /**
   * The entries whose first fields equal `prefix` and whose next field lies in `range`, in index order
   * (`reverse` for the opposite). Values of other types inside the bounds come too: matching sorts them out.
   */
  scan(prefix: unknown[], range: Range | undefined, reverse: boolean): OrderedEntry[] {
    const [start, end] = this.bounds(prefix, range);
    const found = this.#entries.slice(start, end);
    return reverse ? found.reverse() : found;
  }

  /** The positions `scan` would return the entries between (end excluded): two binary searches. */
  bounds(prefix: unknown[], range: Range | undefined): [number, number] {
    const field = prefix.length;
    const direction = this.#directions[field] ?? 1;
    const prefixOrder = (e: OrderedEntry) => {
      for (let i = 0; i < field; i++) {
        const c = compareBson(e.values[i], prefix[i]) * this.#directions[i];
        if (c !== 0) return c;
      }
      return 0;
    };
    const below = (value: unknown, bound: Bound | undefined) => {
      if (!bound) return false;
      const c = compareBson(value, bound.value);
      return c < 0 || (c === 0 && !bound.inclusive);
    };
    const above = (value: unknown, bound: Bound | undefined) => {
      if (!bound) return false;
      const c = compareBson(value, bound.value);
      return c > 0 || (c === 0 && !bound.inclusive);
    };
    const beforeStart = (e: OrderedEntry) =>
      direction === 1 ? below(e.values[field], range?.lo) : above(e.values[field], range?.hi);
    const afterEnd = (e: OrderedEntry) =>
      direction === 1 ? above(e.values[field], range?.hi) : below(e.values[field], range?.lo);
    const start = this.#search((e) => {
      const c = prefixOrder(e);
      return c > 0 || (c === 0 && (!range || !beforeStart(e)));
    });
    const end = this.#search((e) => {
      const c = prefixOrder(e);
      return c > 0 || (c === 0 && range !== undefined && afterEnd(e));
    });
    return [start, Math.max(start, end)];
  }
}
