import { describe, expect, it } from "vitest";
import { DASHBOARD, EMPTY, WINDOW, share, usage } from "./fixtures";
import {
  bucketTimes, costSeries, eventSeries, isEmpty, latencySeries, percentText, shareRows, shareSeries, tokenSeries, usdText,
} from "./series";

const t = (iso: string) => Date.parse(iso) / 1000;
const X = [t("2026-03-10T09:00:00Z"), t("2026-03-10T10:00:00Z"), t("2026-03-10T11:00:00Z")];
const values = (table: { series: { key: string; values: (number | null)[] }[] }) =>
  Object.fromEntries(table.series.map((s) => [s.key, s.values.map((v) => (v === null ? null : Math.round(v * 100) / 100))]));

describe("the dashboard's series", () => {
  it("puts every bucket of the window on the x axis, and any bucket a row names", () => {
    expect(bucketTimes(WINDOW)).toEqual(X);
    expect(bucketTimes({ ...WINDOW, bucket: "day", from: "2026-03-01T00:00:00Z", to: "2026-03-04T00:00:00Z" }))
      .toEqual([t("2026-03-01T00:00:00Z"), t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z")]);
    expect(bucketTimes(WINDOW, ["2026-03-10T08:00:00Z", "2026-03-10T09:00:00Z"])).toEqual([t("2026-03-10T08:00:00Z"), ...X]);
    // an absurd window: only the buckets with data
    expect(bucketTimes({ from: "2000-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", bucket: "hour" }, ["2020-01-01T00:00:00Z"]))
      .toEqual([t("2020-01-01T00:00:00Z")]);
  });

  it("gives cost per backend × model, zero in buckets without calls", () => {
    const cost = costSeries(DASHBOARD);
    expect(cost.x).toEqual(X);
    expect(cost.series.map((s) => s.label)).toEqual(["azure · gpt-4o", "openai · gpt-4o-mini"]);
    expect(values(cost)).toEqual({ "azure · gpt-4o": [0, 0, 2], "openai · gpt-4o-mini": [0.25, 0, 0.75] });
  });

  it("adds tokens by kind over backends and models", () => {
    expect(values(tokenSeries(DASHBOARD))).toEqual({
      input: [1000, 0, 1500], output: [200, 0, 400], cached: [50, 0, 100], reasoning: [0, 0, 40], image: [0, 0, 30],
    });
  });

  it("keeps percentiles as given, with gaps, and leaves out a measure never taken", () => {
    const lat = latencySeries(DASHBOARD);
    expect(lat.series.map((s) => s.key)).toEqual([
      "azure · gpt-4o p50", "azure · gpt-4o p95", "azure · gpt-4o p99",
      "openai · gpt-4o-mini p50", "openai · gpt-4o-mini p95", "openai · gpt-4o-mini p99",
      "openai · gpt-4o-mini TTFT p50", "openai · gpt-4o-mini TTFT p95",
    ]);
    const v = values(lat);
    expect(v["azure · gpt-4o p50"]).toEqual([null, null, 700]);
    expect(v["openai · gpt-4o-mini TTFT p95"]).toEqual([300, null, null]);
    expect(lat.series[0].group).toBe("azure · gpt-4o");
    expect(lat.series[7].measure).toBe("TTFT p95");
  });

  it("sets decided against called and answered per backend over the window", () => {
    expect(shareRows(DASHBOARD.shares)).toEqual([
      { backend: "azure", decided: 25, calls: 30, answered: 30 },
      { backend: "openai", decided: 75, calls: 70, answered: 65 },
    ]);
    expect(shareRows([])).toEqual([]);
    // calls without requests (still in flight at the window's end): no base for the requests' shares
    expect(shareRows([share("2026-03-10T09:00:00Z", { calls: [{ backend: "a", n: 2 }] })]))
      .toEqual([{ backend: "a", decided: null, calls: 100, answered: null }]);
  });

  it("and per bucket, with gaps where nothing was asked", () => {
    const s = shareSeries(DASHBOARD);
    expect(values(s)).toEqual({
      "azure decided": [0, null, 50], "azure calls": [16.67, null, 50],
      "openai decided": [100, null, 50], "openai calls": [83.33, null, 50],
    });
    expect(s.series.map((x) => x.measure)).toEqual(["decided", "calls", "decided", "calls"]);
  });

  it("counts fallbacks, timeouts, 429s and 503s per bucket", () => {
    expect(values(eventSeries(DASHBOARD))).toEqual({
      fallbacks: [2, 0, 0], timeouts: [1, 0, 0], "429s": [3, 0, 0], "503s": [0, 0, 1],
    });
  });

  it("knows an empty range", () => {
    expect(isEmpty(DASHBOARD)).toBe(false);
    expect(isEmpty(EMPTY)).toBe(true);
    expect(isEmpty({ ...EMPTY, usage: [usage("2026-03-10T09:00:00Z", "a", "m", { attempts: 0 })] })).toBe(true);
    expect(isEmpty({ ...EMPTY, shares: [share("2026-03-10T09:00:00Z", { requests: 1 })] })).toBe(false);
  });

  it("writes percentages and dollars", () => {
    expect(percentText(null)).toBe("—");
    expect(percentText(33.333)).toBe("33.3 %");
    expect(usdText(0)).toBe("$0");
    expect(usdText(0.01234)).toBe("$0.0123");
    expect(usdText(12.345)).toBe("$12.35");
  });
});
