import { render } from "preact";
import { act } from "preact/test-utils";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { SyncCounts } from "../bindings/SyncCounts";
import type { SyncJob } from "../bindings/SyncJob";
import type { SyncStatus } from "../bindings/SyncStatus";

const syncApi = vi.hoisted(() => ({
  status: vi.fn(), connect: vi.fn(), disconnect: vi.fn(), jobs: vi.fn(), retry: vi.fn(),
}));
vi.mock("../api", () => ({ syncApi, errorMessage: (e: unknown) => String(e) }));

import { closeScreen, openScreen } from "../app/router";
import { session } from "../app/state";
import { SyncScreen } from "./SyncScreen";
import { confirmingDisconnect, connectError, connecting, filter, notice, offset, page, selected, status } from "./sync";

const counts = (c: Partial<SyncCounts> = {}): SyncCounts =>
  ({ queued: 0, uploading: 0, waiting: 0, retrying: 0, parked: 0, done: 0, ...c });

const statusOf = (s: Partial<SyncStatus> = {}): SyncStatus => ({
  connection: { url: "https://router.example", device_id: 7, station_name: "Front desk" },
  online: true, problem: null, last_contact: new Date(Date.now() - 12_000).toISOString(), counts: counts(), ...s,
});

const job = (id: number, extra: Partial<SyncJob> = {}): SyncJob => ({
  id, kind: "compliance_check", item_id: null, state: "queued", percent: null, reason: null, retry_at: null,
  failures: 0, description: `IMG_${id}.jpg`, created_at: "2026-01-01T10:00:00Z", updated_at: "2026-01-01T10:00:00Z", ...extra,
});

function shown(): HTMLElement {
  const el = document.createElement("div");
  act(() => { render(<SyncScreen />, el); });
  return el;
}

const input = (el: HTMLElement, id: string) => el.querySelector<HTMLInputElement>(`#${id}`)!;

function type(field: HTMLInputElement, value: string): void {
  act(() => {
    field.value = value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

describe("the sync panel", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    openScreen("sync");
    status.value = null;
    page.value = null;
    filter.value = null;
    offset.value = 0;
    selected.value = null;
    notice.value = "";
    connectError.value = "";
    connecting.value = false;
    confirmingDisconnect.value = false;
    session.value = { reviewer: null };
  });

  it("is hidden unless it is the screen up", () => {
    closeScreen("sync");
    expect(shown().querySelector<HTMLElement>("#sync-panel")!.hidden).toBe(true);
  });

  it("offers the connect form when not connected, with labelled fields and the refusal as written", async () => {
    session.value = { reviewer: "Ana" };
    status.value = statusOf({ connection: null });
    page.value = { jobs: [], total: 0 };
    const el = shown();
    for (const id of ["sync-url", "sync-code", "sync-station-name"]) {
      expect(el.querySelector(`label[for="${id}"]`)).not.toBeNull();
    }
    expect(input(el, "sync-station-name").value).toBe("Ana");
    expect(el.textContent).toContain("system keyring");
    const button = el.querySelector<HTMLButtonElement>("#sync-connect-button")!;
    expect(button.type).toBe("submit");
    expect(button.disabled).toBe(true);
    type(input(el, "sync-url"), "https://router.example");
    type(input(el, "sync-code"), "ABCD-1234");
    expect(button.disabled).toBe(false);
    syncApi.connect.mockRejectedValueOnce({ code: "enrolment_invalid", message: "This enrolment code has expired: ask the router's administrator for a new one." });
    await act(async () => { el.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true })); });
    expect(syncApi.connect).toHaveBeenCalledWith("https://router.example", "ABCD-1234", "Ana");
    expect(el.querySelector("#sync-connect-error")?.textContent).toBe("This enrolment code has expired: ask the router's administrator for a new one.");
  });

  it("says it is connecting while it is", async () => {
    status.value = statusOf({ connection: null });
    const el = shown();
    type(input(el, "sync-url"), "https://router.example");
    type(input(el, "sync-code"), "ABCD");
    syncApi.connect.mockReturnValueOnce(new Promise(() => {}));
    await act(async () => { el.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true })); });
    const button = el.querySelector<HTMLButtonElement>("#sync-connect-button")!;
    expect(button.textContent).toBe("Connecting…");
    expect(button.disabled).toBe(true);
  });

  it("shows the link, offline with its problem, and asks before disconnecting", async () => {
    status.value = statusOf({ online: false, problem: "The router does not answer (connection refused)" });
    page.value = { jobs: [], total: 0 };
    const el = shown();
    expect(el.querySelector("#sync-url-shown")?.textContent).toBe("https://router.example");
    expect(el.querySelector("#sync-station-shown")?.textContent).toBe("Front desk");
    expect(el.querySelector("#sync-device-shown")?.textContent).toBe("#7");
    const state = el.querySelector<HTMLElement>("#sync-state")!;
    expect(state.dataset.state).toBe("offline");
    expect(state.getAttribute("aria-live")).toBe("polite");
    expect(state.textContent).toBe("Offline: The router does not answer (connection refused)");
    expect(el.querySelector("#sync-last-contact")?.textContent).toMatch(/last answered 1[0-9] s ago/);
    act(() => { el.querySelector<HTMLButtonElement>("#sync-disconnect")!.click(); });
    expect(syncApi.disconnect).not.toHaveBeenCalled();
    expect(el.querySelector("#sync-disconnect-confirm")?.textContent).toContain("The outbox is kept and sent when you connect again");
    syncApi.disconnect.mockResolvedValueOnce(statusOf({ connection: null }));
    await act(async () => { el.querySelector<HTMLButtonElement>("#sync-disconnect-yes")!.click(); });
    expect(syncApi.disconnect).toHaveBeenCalled();
    expect(el.querySelector("#sync-connect")).not.toBeNull();
  });

  it("lists the outbox: counts per state, rows in words, progress, reasons, Retry now and Open item", async () => {
    status.value = statusOf({ counts: counts({ queued: 1, uploading: 1, retrying: 2, parked: 1, done: 1234 }) });
    page.value = {
      jobs: [
        job(1, { kind: "invoice_fields", state: "uploading", percent: 40, item_id: 9, description: "Invoice 2026-11.pdf" }),
        job(2, { kind: "legal_summary", state: "retrying", reason: "The router is busy (429)", failures: 2, retry_at: new Date(Date.now() + 40_000).toISOString() }),
        job(3, { kind: "correction", state: "parked", reason: "The router refused it: schema mismatch" }),
        job(4, { state: "done", item_id: 5 }),
      ],
      total: 1239,
    };
    selected.value = 2;
    const el = shown();
    const chips = [...el.querySelectorAll<HTMLElement>(".sync-filter")].map((b) => [b.dataset.filter, b.querySelector(".sync-count")?.textContent]);
    expect(chips).toEqual([["all", (1239).toLocaleString()], ["queued", "1"], ["uploading", "1"], ["waiting", "0"], ["retrying", "2"], ["parked", "1"], ["done", (1234).toLocaleString()]]);
    expect(el.querySelector('.sync-filter[data-filter="all"]')?.getAttribute("aria-pressed")).toBe("true");
    const row = (id: number) => el.querySelector<HTMLElement>(`.sync-job[data-id="${id}"]`)!;
    expect(row(1).querySelector(".row-title")?.textContent).toBe("Invoice fields Invoice 2026-11.pdf");
    expect(row(1).querySelector<HTMLProgressElement>("progress")?.value).toBe(40);
    expect(row(1).querySelector(".sync-retry")).toBeNull();
    expect(row(1).querySelector(".sync-open")?.tagName).toBe("BUTTON");
    expect(row(2).querySelector(".sync-kind")?.textContent).toBe("Legal summary");
    expect(row(2).querySelector(".sync-reason")?.textContent).toBe("The router is busy (429)");
    expect(row(2).textContent).toMatch(/Failed 2 times · next try in (39|40) s/);
    expect(row(2).getAttribute("aria-current")).toBe("true");
    expect(row(2).querySelector(".sync-open")).toBeNull();
    expect(row(3).querySelector(".sync-reason")?.textContent).toBe("The router refused it: schema mismatch");
    expect(row(3).querySelector(".sync-retry")?.textContent).toBe("Retry now");
    expect(row(4).querySelector(".sync-retry")).toBeNull();
    expect(el.querySelector("#sync-retry-all")?.textContent).toBe("Retry all now (2)");
    expect(el.querySelector("#sync-page")?.textContent).toBe(`1–4 of ${(1239).toLocaleString()}`);
    expect(el.querySelector<HTMLButtonElement>("#sync-prev")!.disabled).toBe(true);

    syncApi.retry.mockResolvedValueOnce(1);
    syncApi.status.mockResolvedValue(status.value);
    syncApi.jobs.mockResolvedValue(page.value);
    await act(async () => { row(3).querySelector<HTMLButtonElement>(".sync-retry")!.click(); });
    expect(syncApi.retry).toHaveBeenCalledWith(3);
    expect(el.querySelector("#sync-notice")?.textContent).toBe("1 row sent to the queue again");

    syncApi.jobs.mockResolvedValueOnce({ jobs: [job(2, { state: "retrying" })], total: 2 });
    await act(async () => { el.querySelector<HTMLButtonElement>('.sync-filter[data-filter="retrying"]')!.click(); });
    expect(syncApi.jobs).toHaveBeenLastCalledWith("retrying", 0, 100);
    expect(el.querySelectorAll(".sync-job").length).toBe(1);
  });
});
