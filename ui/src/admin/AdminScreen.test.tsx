import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Dashboard } from "../bindings/Dashboard";
import type { Freshness } from "../bindings/Freshness";
import type { LiveView } from "../bindings/LiveView";
import type { LocalStats } from "../bindings/LocalStats";
import type { RequestView } from "../bindings/RequestView";
import type { ChartSpec } from "../review/charts";

const adminApi = vi.hoisted(() => ({ dashboard: vi.fn(), live: vi.fn(), requests: vi.fn(), exportCsv: vi.fn(), localStats: vi.fn() }));
vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), adminApi }));
const drawn = vi.hoisted(() => ({ charts: new Map<string, ChartSpec>() }));
vi.mock("../review/charts", async (original) => ({
  ...(await original<typeof import("../review/charts")>()),
  drawChart: vi.fn(async (box: HTMLElement, spec: ChartSpec) => {
    drawn.charts.set(box.parentElement!.id, spec);
    return () => {};
  }),
}));

import { route } from "../app/router";
import { account } from "../login/account";
import {
  activeTimers, adminKeys, bucketChoice, dashboard, exportStatus, filters, live, local, openAdmin, range, requests, setupAdmin,
} from "./admin";
import { AdminScreen } from "./AdminScreen";
import { DASHBOARD, EMPTY } from "./fixtures";
import { NO_FILTERS } from "./range";

const FRESH: Freshness = { fetched_at: new Date().toISOString(), fresh: true, offline_reason: null };
const LIVE: LiveView = {
  live: {
    at: "2026-03-10T12:00:00Z", rpm: 42, rps10: 7, backends: [
      { name: "openai", in_flight: 3, cap: 8, in_rotation: true, disabled_reason: null, disabled_until: null, errors_today: 1 },
      { name: "azure", in_flight: 0, cap: 4, in_rotation: false, disabled_reason: "quota", disabled_until: "2026-03-11T00:00:00Z", errors_today: 12 },
    ],
  },
  freshness: FRESH,
};
const LOCAL: LocalStats = {
  from: "2026-03-09T12:00:00Z", to: "2026-03-10T12:00:00Z", hardware: "AMD EPYC 7B12 (16 threads) [avx2]",
  steps: [{ step: "quality_gate", count: 120, p50_ms: 18, p95_ms: 41 }, { step: "ocr", count: 30, p50_ms: 850, p95_ms: 1900 }],
  reviewers: [{ reviewer: "ana", items: 40, items_per_hour: 95.5, seconds_per_item: 21.25 }],
};
const request = (id: string, extra: Partial<RequestView> = {}): RequestView => ({
  id, device: 7, store: "S-1", requested_model: "auto", stream: false, decision: "cheapest", decision_reason: "cheapest under the cap",
  decided_backend: "openai", final_backend: "azure", fallback: true, status: 200, error_code: null,
  started_at: "2026-03-10T11:59:00Z", latency_ms: 1234, ttft_ms: null, cost_usd: 0.0042,
  attempts: [
    { backend: "openai", provider_model: "gpt-4o-mini", outcome: "rate_limited", http_status: 429, provider_error: "Rate limit reached",
      retry_after_ms: 2000, queue_wait_ms: 3, latency_ms: 80, ttft_ms: null, input_tokens: null, output_tokens: null, cost_usd: 0 },
    { backend: "azure", provider_model: "gpt-4o", outcome: "ok", http_status: 200, provider_error: null,
      retry_after_ms: null, queue_wait_ms: 0, latency_ms: 1100, ttft_ms: null, input_tokens: 900, output_tokens: 120, cost_usd: 0.0042 },
  ],
  ...extra,
});
const view = (d: Dashboard, freshness: Freshness = FRESH) => ({ dashboard: d, freshness });

let el: HTMLElement;
const $ = <T extends Element = HTMLElement>(sel: string) => el.querySelector<T>(sel);

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await act(async () => { await Promise.resolve(); });
}

async function opened(): Promise<void> {
  el = document.createElement("div");
  document.body.append(el);
  act(() => { render(<AdminScreen />, el); });
  await act(async () => { openAdmin(); });
  await flush();
}

function close(): void {
  act(() => { adminKeys(new KeyboardEvent("keydown", { key: "Escape" })); });
}

describe("the admin screen", () => {
  beforeAll(() => { setupAdmin(); });
  beforeEach(() => {
    vi.clearAllMocks();
    drawn.charts.clear();
    account.value = {
      mode: "router", account: { id: 1, name: "root", role: "admin" }, expires_at: null, router_url: "https://router.example",
      sign_in_required: false, local_reviewer: null, ended_reason: null,
    };
    range.value = { preset: "24h" };
    bucketChoice.value = "auto";
    filters.value = NO_FILTERS;
    dashboard.value = null;
    live.value = null;
    local.value = null;
    requests.value = [];
    exportStatus.value = null;
    adminApi.dashboard.mockResolvedValue(view(DASHBOARD));
    adminApi.live.mockResolvedValue(LIVE);
    adminApi.localStats.mockResolvedValue(LOCAL);
    adminApi.requests.mockResolvedValue({ page: { window: DASHBOARD.window, requests: [request("r2"), request("r1", { fallback: false, final_backend: "openai", status: 502, error_code: "upstream" })], next_before: "r1" }, freshness: FRESH });
  });
  afterEach(() => {
    close();
    act(() => { render(null, el); });
    el.remove();
    vi.useRealTimers();
  });

  it("is for admins only", async () => {
    account.value = { ...account.value!, account: { id: 2, name: "rev", role: "reviewer" } };
    await opened();
    expect(route.value.screen).toBe("items");
    expect(adminApi.dashboard).not.toHaveBeenCalled();
  });

  it("draws the range's charts, titled with their unit and the exact window", async () => {
    await opened();
    expect($("#admin-screen")!.hidden).toBe(false);
    const q = adminApi.dashboard.mock.calls[0][0];
    expect(q.bucket).toBe("hour");
    expect(Date.parse(q.to) - Date.parse(q.from)).toBe(24 * 3_600_000);
    expect(adminApi.localStats).toHaveBeenCalledWith(q.from, q.to);
    expect(adminApi.requests).toHaveBeenCalledWith(q, null);
    const win = "2026-03-10 09:00 – 2026-03-10 12:00 UTC, per hour";
    expect($("#admin-window")!.textContent).toBe(win);
    const title = (id: string) => $(`#${id} figcaption`)!.textContent;
    expect(title("chart-cost")).toBe(`Cost (USD) per backend × model · ${win}`);
    expect(title("chart-tokens")).toBe(`Tokens by kind (count) · ${win}`);
    expect(title("chart-latency")).toContain("(ms)");
    expect(title("chart-latency")).toContain(win);
    expect(title("chart-shares-window")).toContain(win);
    expect($("#chart-shares")).not.toBeNull();
    expect([...drawn.charts.keys()].sort()).toEqual(
      ["chart-cost", "chart-events", "chart-latency", "chart-shares-buckets", "chart-shares-window", "chart-tokens"]);
    const cost = drawn.charts.get("chart-cost")!;
    expect(cost.series.map((s) => s.label)).toEqual(["azure · gpt-4o", "openai · gpt-4o-mini"]);
    expect(cost.data[2]).toEqual([0.25, 0, 0.75]);
    expect(cost.utc).toBe(true);
    expect(drawn.charts.get("chart-shares-window")!.bars).toEqual(["azure", "openai"]);
    expect($("#admin-empty")).toBeNull();
    expect($("#admin-offline")).toBeNull();
  });

  it("tables the shares: decided, calls and answered per backend", async () => {
    await opened();
    const cell = (backend: string, measure: string) =>
      $(`#shares-table td[data-backend="${backend}"][data-measure="${measure}"]`)!.textContent;
    expect(cell("openai", "decided")).toBe("75.0 %");
    expect(cell("openai", "calls")).toBe("70.0 %");
    expect(cell("openai", "answered")).toBe("65.0 %");
    expect(cell("azure", "decided")).toBe("25.0 %");
    expect(cell("azure", "calls")).toBe("30.0 %");
  });

  it("says an empty range instead of drawing empty charts", async () => {
    adminApi.dashboard.mockResolvedValue(view(EMPTY));
    await opened();
    expect($("#admin-empty")!.textContent).toBe("No calls between 2026-03-10 09:00 and 2026-03-10 12:00 UTC.");
    expect($("#chart-cost")).toBeNull();
    expect(drawn.charts.size).toBe(0);
  });

  it("shows the offline snapshot's age and why, the age moving each minute", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const fetched = new Date(Date.now() - 5 * 60_000).toISOString();
    adminApi.dashboard.mockResolvedValue(view(DASHBOARD, { fetched_at: fetched, fresh: false, offline_reason: "The router does not answer (connection refused)" }));
    await opened();
    const utc = fetched.slice(0, 16).replace("T", " ");
    expect($("#admin-offline")!.textContent)
      .toBe(`Offline — showing the snapshot synced 5 minutes ago (${utc} UTC): The router does not answer (connection refused)`);
    await act(async () => { vi.advanceTimersByTime(2 * 60_000); });
    expect($("#admin-offline")!.textContent).toContain("synced 7 minutes ago");
  });

  it("refreshes the live panel every 10 s while open, and stops when it closes", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    await opened();
    expect($("#live-rpm")!.textContent).toBe("42");
    expect($("#live-rps10")!.textContent).toBe("7");
    const bar = $('#live-panel tr[data-backend="openai"] [role="meter"]')!;
    expect(bar.getAttribute("aria-valuenow")).toBe("3");
    expect(bar.getAttribute("aria-valuemax")).toBe("8");
    expect($('#live-panel tr[data-backend="azure"] .backend-state')!.textContent).toContain("Disabled: quota until");
    expect(adminApi.live).toHaveBeenCalledTimes(1);
    await act(async () => { vi.advanceTimersByTime(10_000); });
    expect(adminApi.live).toHaveBeenCalledTimes(2);
    close();
    expect(route.value.screen).toBe("items");
    expect(activeTimers()).toBe(0);
    await act(async () => { vi.advanceTimersByTime(60_000); });
    expect(adminApi.live).toHaveBeenCalledTimes(2);
  });

  it("shows the local engine's latencies with the hardware, and the reviewers' pace", async () => {
    await opened();
    expect($("#local-hardware")!.textContent).toBe("Measured on AMD EPYC 7B12 (16 threads) [avx2]");
    expect($('#local-steps tr[data-step="ocr"]')!.textContent).toBe("OCR30850 ms1,900 ms");
    expect($('#local-reviewers tr[data-reviewer="ana"]')!.textContent).toBe("ana4095.521.3");
  });

  it("lists recent requests, opens one to its attempts, and loads older ones", async () => {
    await opened();
    const rows = () => [...el.querySelectorAll<HTMLElement>("#requests-table tr.request")].map((r) => r.dataset.request);
    expect(rows()).toEqual(["r2", "r1"]);
    expect($('tr[data-request="r2"]')!.textContent).toContain("openai → azure");
    expect($('tr[data-request="r1"]')!.classList.contains("request-failed")).toBe(true);
    await act(async () => { $<HTMLButtonElement>('tr[data-request="r2"] .request-toggle')!.click(); });
    const attempts = $('tr[data-attempts-of="r2"]')!;
    expect(attempts.querySelectorAll("tr.attempt").length).toBe(2);
    expect(attempts.textContent).toContain("Rate limit reached");
    expect(attempts.textContent).toContain("900 / 120");
    adminApi.requests.mockResolvedValueOnce({ page: { window: DASHBOARD.window, requests: [request("r0")], next_before: null }, freshness: FRESH });
    await act(async () => { $<HTMLButtonElement>("#requests-more")!.click(); });
    await flush();
    expect(adminApi.requests).toHaveBeenLastCalledWith(adminApi.dashboard.mock.calls[0][0], "r1");
    expect(rows()).toEqual(["r2", "r1", "r0"]);
    expect($("#requests-more")).toBeNull();
  });

  it("asks again for a preset, a custom range, a bucket and a filter", async () => {
    await opened();
    await act(async () => { $<HTMLButtonElement>("#admin-range-7d")!.click(); });
    let q = adminApi.dashboard.mock.lastCall![0];
    expect(Date.parse(q.to) - Date.parse(q.from)).toBe(7 * 24 * 3_600_000);
    expect(q.bucket).toBe("day");
    expect($("#admin-range-7d")!.getAttribute("aria-pressed")).toBe("true");

    const set = (sel: string, value: string, event: string) => act(() => {
      const field = $<HTMLInputElement | HTMLSelectElement>(sel)!;
      field.value = value;
      field.dispatchEvent(new Event(event, { bubbles: true }));
    });
    set("#admin-from", "2026-03-01T08:00", "input");
    set("#admin-to", "2026-03-02T08:00", "input");
    await act(async () => { $<HTMLButtonElement>("#admin-range-apply")!.click(); });
    q = adminApi.dashboard.mock.lastCall![0];
    expect(q.from).toBe(new Date(2026, 2, 1, 8, 0).toISOString().replace(".000Z", "Z"));
    expect(q.to).toBe(new Date(2026, 2, 2, 8, 0).toISOString().replace(".000Z", "Z"));
    expect(q.bucket).toBe("hour");

    set("#admin-bucket", "day", "change");
    expect(adminApi.dashboard.mock.lastCall![0].bucket).toBe("day");
    await flush();
    const options = [...el.querySelectorAll<HTMLOptionElement>("#admin-backend option")].map((o) => o.value);
    expect(options).toEqual(["", "azure", "openai"]);
    set("#admin-backend", "openai", "change");
    set("#admin-device", "7", "change");
    q = adminApi.dashboard.mock.lastCall![0];
    expect(q.backend).toBe("openai");
    expect(q.device).toBe(7);
    expect(q.model).toBeNull();
  });

  it("exports each table as CSV with the query: rows saved, or nothing when cancelled", async () => {
    await opened();
    for (const id of ["export-usage", "export-latency", "export-shares", "export-live", "export-requests", "export-engine"]) {
      expect($(`#${id}`)).not.toBeNull();
    }
    adminApi.exportCsv.mockResolvedValueOnce(12);
    await act(async () => { $<HTMLButtonElement>("#export-usage")!.click(); });
    expect(adminApi.exportCsv).toHaveBeenCalledWith("usage", adminApi.dashboard.mock.calls[0][0]);
    expect($("#export-usage-status")!.textContent).toBe("12 rows saved");
    adminApi.exportCsv.mockResolvedValueOnce(null);
    await act(async () => { $<HTMLButtonElement>("#export-requests")!.click(); });
    expect($("#export-requests-status")!.textContent).toBe("");
    expect($("#export-usage-status")!.textContent).toBe("");
  });

  it("says what the router refused", async () => {
    adminApi.dashboard.mockRejectedValue({ code: "forbidden", message: "Admins only." });
    await opened();
    expect($("#admin-error")!.textContent).toBe("Admins only.");
  });
});
