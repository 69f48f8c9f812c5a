import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SyncCounts } from "../bindings/SyncCounts";
import type { SyncJob } from "../bindings/SyncJob";
import type { SyncStatus } from "../bindings/SyncStatus";

const syncApi = vi.hoisted(() => ({
  status: vi.fn(), connect: vi.fn(), disconnect: vi.fn(), jobs: vi.fn(), retry: vi.fn(),
}));
vi.mock("../api", () => ({
  syncApi,
  errorMessage: (e: unknown) => (e instanceof Error ? e.message : String(e)),
}));

import { connection } from "../app/state";
import { openScreen, route } from "../app/router";
import {
  Poller, ago, connect, connectError, connectionFromStatus, countFor, kindLabel, lastContactText, lastPageStart,
  offset, page, pageText, pendingCount, pollInterval, refreshJobs, refreshStatus, reselect, retryText, selected,
  status, step, syncKeys, until, userMessage, filter,
} from "./sync";

const counts = (c: Partial<SyncCounts> = {}): SyncCounts =>
  ({ queued: 0, uploading: 0, waiting: 0, retrying: 0, parked: 0, done: 0, ...c });

const statusOf = (s: Partial<SyncStatus> = {}): SyncStatus => ({
  connection: { url: "https://router.example", device_id: 7, station_name: "Front desk" },
  online: true, problem: null, last_contact: "2026-01-01T10:00:00Z", counts: counts(), ...s,
});

const job = (id: number, extra: Partial<SyncJob> = {}): SyncJob => ({
  id, kind: "compliance_check", item_id: 40 + id, state: "queued", percent: null, reason: null, retry_at: null,
  failures: 0, description: `IMG_${id}.jpg`, created_at: "2026-01-01T10:00:00Z", updated_at: "2026-01-01T10:00:00Z", ...extra,
});

const NOW = Date.parse("2026-01-01T10:00:12Z");

describe("the words of the sync panel", () => {
  it("names the kinds of rows", () => {
    expect(kindLabel("compliance_check")).toBe("Photo check");
    expect(kindLabel("invoice_fields")).toBe("Invoice fields");
    expect(kindLabel("legal_summary")).toBe("Legal summary");
    expect(kindLabel("correction")).toBe("Correction");
    expect(kindLabel("new_kind")).toBe("new kind");
  });

  it("tells times as ages and waits", () => {
    expect(ago("2026-01-01T10:00:00Z", NOW)).toBe("12 s ago");
    expect(ago("2026-01-01T09:55:00Z", NOW)).toBe("5 min ago");
    expect(ago("2026-01-01T07:00:00Z", NOW)).toBe("3 h ago");
    expect(ago("2025-12-29T10:00:00Z", NOW)).toBe("3 d ago");
    expect(ago("2026-01-01T10:00:20Z", NOW)).toBe("just now");
    expect(until("2026-01-01T10:00:52Z", NOW)).toBe("in 40 s");
    expect(until("2026-01-01T10:00:00Z", NOW)).toBe("now");
    expect(lastContactText("2026-01-01T10:00:00Z", NOW)).toBe("last answered 12 s ago");
    expect(lastContactText(null, NOW)).toBe("no answer from the router yet");
    expect(retryText(job(1, { state: "retrying", failures: 3, retry_at: "2026-01-01T10:00:52Z" }), NOW)).toBe("Failed 3 times · next try in 40 s");
    expect(retryText(job(1, { state: "parked", failures: 1 }), NOW)).toBe("Failed 1 time");
  });

  it("counts the rows per chip and what is still to send", () => {
    const c = counts({ queued: 2, uploading: 1, waiting: 3, retrying: 4, parked: 5, done: 100 });
    expect(countFor(c, null)).toBe(115);
    expect(countFor(c, "parked")).toBe(5);
    expect(pendingCount(c)).toBe(10);
    expect(pageText(100, 100, 4213)).toBe(`101–200 of ${(4213).toLocaleString()}`);
    expect(pageText(0, 0, 0)).toBe("No rows");
  });

  it("shows the station's messages as they are written", () => {
    expect(userMessage({ code: "enrolment_used", message: "This enrolment code has been used already." })).toBe("This enrolment code has been used already.");
    expect(userMessage({ code: "some_new_code", message: "No system keyring: install one." })).toBe("No system keyring: install one.");
    expect(userMessage(new Error("IPC failed"))).toBe("IPC failed");
  });
});

describe("the connection badge", () => {
  it("follows the sync status", () => {
    expect(connectionFromStatus(statusOf({ connection: null }))).toEqual({ state: "local" });
    expect(connectionFromStatus(statusOf({ counts: counts({ queued: 1, uploading: 1, waiting: 1, retrying: 1, parked: 9, done: 9 }) })))
      .toEqual({ state: "online", url: "https://router.example", pending: 4 });
    expect(connectionFromStatus(statusOf({ online: false, problem: "The router's certificate is not trusted" })))
      .toEqual({ state: "offline", url: "https://router.example", pending: 0, error: "The router's certificate is not trusted" });
    expect(connectionFromStatus(statusOf({ online: false, problem: null })))
      .toEqual({ state: "connecting", url: "https://router.example" });
  });
});

describe("the selection", () => {
  it("moves within a page and over to the next and previous ones", () => {
    expect(step(-1, 1, 3, 0, 3)).toEqual({ offset: 0, index: 0 });
    expect(step(0, 1, 3, 0, 3)).toEqual({ offset: 0, index: 1 });
    expect(step(2, 1, 3, 0, 3)).toEqual({ offset: 0, index: 2 }); // the last row of all
    expect(step(99, 1, 100, 0, 250)).toEqual({ offset: 100, index: 0 });
    expect(step(0, -1, 100, 100, 250)).toEqual({ offset: 0, index: 99 });
    expect(step(0, -1, 100, 0, 250)).toEqual({ offset: 0, index: 0 });
    expect(step(-1, 1, 0, 0, 0)).toEqual({ offset: 0, index: -1 });
    expect(lastPageStart(250)).toBe(200);
    expect(lastPageStart(200)).toBe(100);
    expect(lastPageStart(0)).toBe(0);
  });

  it("stays on its row across a refresh, or on the row now where it was", () => {
    const before = [job(1), job(2), job(3)];
    expect(reselect(2, before, [job(0), job(1), job(2)])).toBe(2);
    expect(reselect(2, before, [job(1), job(3)])).toBe(3);
    expect(reselect(3, before, [job(1)])).toBe(1);
    expect(reselect(null, before, [job(5)])).toBe(5);
    expect(reselect(2, before, [])).toBeNull();
  });
});

describe("the poller", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("polls every 2 s with the panel up, 10 s without, and not while hidden", async () => {
    let open = false;
    let visible = true;
    let calls = 0;
    const p = new Poller(async () => { calls += 1; }, () => pollInterval(open, visible));
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    open = true;
    p.now(); // the panel opens: at once, then every 2 s
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(3);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(calls).toBe(5);
    visible = false;
    p.schedule(); // hidden: stops
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(5);
    p.now(); // nothing while hidden
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(5);
    visible = true;
    p.now();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(6);
    p.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(6);
  });

  it("never has two polls in flight, and keeps going after a failure", async () => {
    let calls = 0;
    let release: () => void = () => {};
    const p = new Poller(() => {
      calls += 1;
      if (calls === 1) return new Promise<void>((resolve) => { release = resolve; });
      return Promise.reject(new Error("down"));
    }, () => 2_000);
    p.start();
    p.now();
    p.now();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2); // the ones asked meanwhile: once
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(3);
    p.stop();
  });
});

describe("the moves", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    connection.value = { state: "local" };
    status.value = null;
    connectError.value = "";
    filter.value = null;
    offset.value = 0;
    page.value = null;
    selected.value = null;
  });

  it("shows the connection being made, then the router's; a refusal verbatim and the badge as it was", async () => {
    let answer: (s: SyncStatus) => void = () => {};
    syncApi.connect.mockReturnValueOnce(new Promise((resolve) => { answer = resolve; }));
    syncApi.jobs.mockResolvedValue({ jobs: [], total: 0 });
    const done = connect(" https://router.example ", " ABCD-1234 ", "Front desk");
    expect(connection.value).toEqual({ state: "connecting", url: "https://router.example" });
    expect(syncApi.connect).toHaveBeenCalledWith("https://router.example", "ABCD-1234", "Front desk");
    answer(statusOf());
    expect(await done).toBe(true);
    expect(connection.value).toEqual({ state: "online", url: "https://router.example", pending: 0 });

    connection.value = { state: "local" };
    syncApi.connect.mockRejectedValueOnce({ code: "enrolment_used", message: "This code was used already: ask for a new one." });
    expect(await connect("https://router.example", "OLD", "Front desk")).toBe(false);
    expect(connectError.value).toBe("This code was used already: ask for a new one.");
    expect(connection.value).toEqual({ state: "local" });
  });

  it("drops a poll answer that was asked before a connect", async () => {
    let answer: (s: SyncStatus) => void = () => {};
    syncApi.status.mockReturnValueOnce(new Promise((resolve) => { answer = resolve; }));
    const poll = refreshStatus();
    syncApi.connect.mockResolvedValueOnce(statusOf());
    syncApi.jobs.mockResolvedValue({ jobs: [], total: 0 });
    await connect("https://router.example", "CODE", "Front desk");
    answer(statusOf({ connection: null }));
    await poll;
    expect(connection.value.state).toBe("online");
  });

  it("keeps the selected row across a refresh and goes back a page when the rows ran out", async () => {
    syncApi.jobs.mockResolvedValueOnce({ jobs: [job(1), job(2), job(3)], total: 3 });
    await refreshJobs();
    expect(selected.value).toBe(1);
    selected.value = 2;
    syncApi.jobs.mockResolvedValueOnce({ jobs: [job(0), job(1), job(2), job(3)], total: 4 });
    await refreshJobs();
    expect(selected.value).toBe(2);
    offset.value = 200;
    syncApi.jobs
      .mockResolvedValueOnce({ jobs: [], total: 150 })
      .mockResolvedValueOnce({ jobs: [job(9)], total: 150 });
    await refreshJobs();
    expect(offset.value).toBe(100);
    expect(syncApi.jobs).toHaveBeenLastCalledWith(null, 100, 100);
    expect(selected.value).toBe(9);
  });

  it("takes its keys: arrows select, R retries, O opens the item and closes the panel; the rest pass", async () => {
    openScreen("sync");
    page.value = { jobs: [job(1), job(2, { state: "retrying", item_id: 77 })], total: 2 };
    selected.value = 1;
    const key = (k: string) => syncKeys(new KeyboardEvent("keydown", { key: k }));
    expect(key("ArrowDown")).toBe(true);
    expect(selected.value).toBe(2);
    syncApi.retry.mockResolvedValueOnce(1);
    syncApi.status.mockResolvedValue(statusOf());
    syncApi.jobs.mockResolvedValue({ jobs: [job(1), job(2, { state: "queued", item_id: 77 })], total: 2 });
    expect(key("r")).toBe(true);
    await vi.waitFor(() => expect(syncApi.jobs).toHaveBeenCalled());
    expect(syncApi.retry).toHaveBeenCalledWith(2);
    expect(key("j")).toBe(false); // the items screen's
    expect(key("o")).toBe(true);
    expect(route.value).toEqual({ screen: "items", item: 77 });
    openScreen("sync");
    expect(key("Escape")).toBe(true);
    expect(route.value.screen).toBe("items");
  });
});
