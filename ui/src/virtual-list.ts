// Windowing and paging for the item list: only the visible rows exist in the DOM, and rows are
// fetched a page at a time, so the list stays fast with any number of items.

export interface Range {
  start: number;
  end: number; // exclusive
}

/** Rows to render for a scroll position, with `overscan` extra rows above and below. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, overscan = 6): Range {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** The scrollTop that brings row `index` into view with the least movement. */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return scrollTop;
}

export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

/**
 * A sparse, page-cached view of a server-side list. `get(i)` returns a row if its page is
 * loaded and otherwise starts loading it; `onChange` fires when a page arrives. A `reset`
 * (new filter or new data) drops the cache; answers to requests made before it are ignored.
 */
export class PagedList<T> {
  total = 0;
  private pages = new Map<number, T[]>();
  private loading = new Map<number, Promise<void>>();
  private generation = 0;

  constructor(
    private readonly fetchPage: (offset: number, limit: number) => Promise<Page<T>>,
    private readonly onChange: () => void,
    readonly pageSize = 200,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  get(index: number): T | undefined {
    const page = Math.floor(index / this.pageSize);
    const rows = this.pages.get(page);
    if (rows) return rows[index - page * this.pageSize];
    void this.load(page);
    return undefined;
  }

  /** Index of the first loaded row matching `predicate`, or -1. */
  findLoaded(predicate: (row: T) => boolean): number {
    for (const [page, rows] of this.pages) {
      const i = rows.findIndex(predicate);
      if (i >= 0) return page * this.pageSize + i;
    }
    return -1;
  }

  /** Drops everything and loads the first page again; resolves when it has arrived. */
  async reset(): Promise<void> {
    this.generation += 1;
    this.pages.clear();
    this.loading.clear();
    await this.load(0);
  }

  /** The row at `index`, loading its page first if needed. */
  async ensure(index: number): Promise<T | undefined> {
    const page = Math.floor(index / this.pageSize);
    await this.load(page);
    return this.pages.get(page)?.[index - page * this.pageSize];
  }

  private load(page: number): Promise<void> {
    if (this.pages.has(page)) return Promise.resolve();
    const pending = this.loading.get(page);
    if (pending) return pending;
    const generation = this.generation;
    const request = (async () => {
      try {
        const result = await this.fetchPage(page * this.pageSize, this.pageSize);
        if (generation !== this.generation) return;
        this.total = result.total;
        this.pages.set(page, result.items);
        this.onChange();
      } catch (error) {
        if (generation === this.generation) this.onError(error);
      } finally {
        if (generation === this.generation) this.loading.delete(page);
      }
    })();
    this.loading.set(page, request);
    return request;
  }
}
