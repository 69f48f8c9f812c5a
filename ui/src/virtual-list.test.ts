import { describe, expect, it } from "vitest";
import { PagedList, scrollToReveal, visibleRange } from "./virtual-list";

describe("visibleRange", () => {
  it("renders only the rows in view plus overscan", () => {
    expect(visibleRange(0, 520, 52, 100_000, 6)).toEqual({ start: 0, end: 17 });
    expect(visibleRange(52 * 1000, 520, 52, 100_000, 6)).toEqual({ start: 994, end: 1017 });
  });
  it("clamps at the end and handles empty lists", () => {
    expect(visibleRange(52 * 99, 520, 52, 100, 6)).toEqual({ start: 93, end: 100 });
    expect(visibleRange(0, 520, 52, 0)).toEqual({ start: 0, end: 0 });
  });
});

describe("scrollToReveal", () => {
  it("scrolls minimally", () => {
    expect(scrollToReveal(5, 0, 520, 52)).toBe(0);
    expect(scrollToReveal(20, 0, 520, 52)).toBe(21 * 52 - 520);
    expect(scrollToReveal(2, 520, 520, 52)).toBe(104);
  });
});

describe("PagedList", () => {
  const source = (total: number, log: number[]) => async (offset: number, limit: number) => {
    log.push(offset);
    const items = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i);
    return { total, offset, items };
  };

  it("loads pages on demand and caches them", async () => {
    const log: number[] = [];
    let changes = 0;
    const list = new PagedList(source(1000, log), () => changes++, 100);
    await list.reset();
    expect(list.total).toBe(1000);
    expect(list.get(5)).toBe(5);
    expect(list.get(250)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 0));
    expect(list.get(250)).toBe(250);
    list.get(251);
    expect(log).toEqual([0, 200]);
    expect(changes).toBe(2);
    expect(list.findLoaded((v) => v === 250)).toBe(250);
    expect(list.findLoaded((v) => v === 150)).toBe(-1);
  });

  it("ensure waits for a page already in flight", async () => {
    const log: number[] = [];
    const list = new PagedList(source(1000, log), () => {}, 100);
    expect(list.get(420)).toBeUndefined();
    expect(await list.ensure(421)).toBe(421);
    expect(log).toEqual([400]);
  });

  it("ignores answers that arrive after a reset", async () => {
    let resolveSlow: (v: { total: number; offset: number; items: string[] }) => void = () => {};
    let calls = 0;
    const list = new PagedList<string>(
      (offset) => {
        calls++;
        if (calls === 1) return new Promise((r) => { resolveSlow = r; });
        return Promise.resolve({ total: 1, offset, items: ["new"] });
      },
      () => {},
      10,
    );
    const first = list.reset();
    const second = list.reset();
    resolveSlow({ total: 99, offset: 0, items: ["stale"] });
    await Promise.all([first, second]);
    expect(list.total).toBe(1);
    expect(list.get(0)).toBe("new");
  });

  it("reports load errors", async () => {
    const errors: unknown[] = [];
    const list = new PagedList(() => Promise.reject({ code: "storage", message: "disk full" }), () => {}, 10, (e) => errors.push(e));
    await list.reset();
    expect(errors).toEqual([{ code: "storage", message: "disk full" }]);
  });
});
