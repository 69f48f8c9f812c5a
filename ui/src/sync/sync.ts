// The sync panel's state and moves: the station's link to the router (polled: every 2 s while
// the panel is up, every 10 s otherwise, never while the window is hidden), the top bar's
// connection badge that follows it, and the outbox rows a page at a time (the outbox can hold
// 100,000 rows). The pure parts (labels, times, selection, the poller) are unit-tested.
import { refreshAccount } from "../login/account";
import { effect, signal, untracked } from "@preact/signals";
import { errorMessage, syncApi } from "../api";
import type { SyncCounts } from "../bindings/SyncCounts";
import type { SyncJob } from "../bindings/SyncJob";
import type { SyncJobPage } from "../bindings/SyncJobPage";
import type { SyncJobState } from "../bindings/SyncJobState";
import type { SyncStatus } from "../bindings/SyncStatus";
import { closeScreen, route, showItem, toggleScreen } from "../app/router";
import { connection, type Connection } from "../app/state";
import { keys } from "../keys";

/** Rows per page of the outbox list. */
export const PAGE_SIZE = 100;
/** Poll periods (ms): the panel up, and the badge alone. */
export const POLL_OPEN_MS = 2_000;
export const POLL_BADGE_MS = 10_000;

// --- Words -------------------------------------------------------------------------------------

export const KIND_LABELS: Readonly<Record<string, string>> = {
  compliance_check: "Photo check",
  invoice_fields: "Invoice fields",
  legal_summary: "Legal summary",
  correction: "Correction",
};

/** A row's kind in words (an unknown one: its name, spaced). */
export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind.replace(/_/g, " ");
}

export const STATE_LABELS: Readonly<Record<SyncJobState, string>> = {
  queued: "Queued",
  uploading: "Uploading",
  waiting: "Waiting",
  retrying: "Retrying",
  parked: "Parked",
  done: "Done",
};

export const STATE_HINTS: Readonly<Record<SyncJobState, string>> = {
  queued: "Stored here, to be sent",
  uploading: "Its files are going to the router",
  waiting: "Sent; waiting for the router's answer",
  retrying: "Failed for now; tried again on its own",
  parked: "Stopped: needs a look (Retry now sends it again)",
  done: "The router has it",
};

/** The filter chips, in order; null is "All". */
export const FILTERS: readonly (SyncJobState | null)[] = [null, "queued", "uploading", "waiting", "retrying", "parked", "done"];

export function filterLabel(filter: SyncJobState | null): string {
  return filter === null ? "All" : STATE_LABELS[filter];
}

export function countFor(counts: SyncCounts, filter: SyncJobState | null): number {
  return filter === null
    ? counts.queued + counts.uploading + counts.waiting + counts.retrying + counts.parked + counts.done
    : counts[filter];
}

/** Rows not yet with the router: what the badge counts. */
export function pendingCount(counts: SyncCounts): number {
  return counts.queued + counts.uploading + counts.waiting + counts.retrying;
}

/** The top bar's connection, from the station's sync status. */
export function connectionFromStatus(status: SyncStatus): Connection {
  const c = status.connection;
  if (c === null) return { state: "local" };
  const pending = pendingCount(status.counts);
  if (status.online) return { state: "online", url: c.url, pending };
  // neither answered nor failed yet (just connected, or just started): still trying, not offline
  if (status.problem === null) return { state: "connecting", url: c.url };
  return { state: "offline", url: c.url, pending, error: status.problem ?? "The router has not answered" };
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago" (a time a little ahead of the clock: "just now"). */
export function ago(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (isNaN(at)) return iso;
  const s = Math.round((now - at) / 1000);
  if (s < 1) return "just now";
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** "in 40 s", "in 3 min", "now" (a time in the past: due). */
export function until(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (isNaN(at)) return iso;
  const s = Math.round((at - now) / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `in ${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `in ${min} min`;
  return `in ${Math.round(min / 60)} h`;
}

export function lastContactText(lastContact: string | null, now: number): string {
  return lastContact === null ? "no answer from the router yet" : `last answered ${ago(lastContact, now)}`;
}

/** What a retrying row's line says besides its reason: how often it failed, when it goes next. */
export function retryText(job: SyncJob, now: number): string {
  const parts: string[] = [];
  if (job.failures > 0) parts.push(`failed ${job.failures} time${job.failures === 1 ? "" : "s"}`);
  if (job.state === "retrying" && job.retry_at) parts.push(`next try ${until(job.retry_at, now)}`);
  const text = parts.join(" · ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * A command's rejection as the user reads it: the station's `{code, message}` messages are
 * written for the user (wrong URL, not a router, code used…), so the message alone, as is.
 */
export function userMessage(error: unknown): string {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return error.message;
  }
  return errorMessage(error);
}

/** "1–100 of 4,213". */
export function pageText(offset: number, shown: number, total: number): string {
  if (total === 0) return "No rows";
  return `${(offset + 1).toLocaleString()}–${(offset + shown).toLocaleString()} of ${total.toLocaleString()}`;
}

// --- Selection and pages -----------------------------------------------------------------------

/**
 * Where the selection goes after a refresh: the same row if it is still on the page, otherwise
 * the row now where it was (the list moved on under it), otherwise the first.
 */
export function reselect(selected: number | null, before: readonly SyncJob[], after: readonly SyncJob[]): number | null {
  if (after.length === 0) return null;
  if (selected !== null) {
    if (after.some((j) => j.id === selected)) return selected;
    const at = before.findIndex((j) => j.id === selected);
    if (at >= 0) return after[Math.min(at, after.length - 1)].id;
  }
  return after[0].id;
}

/**
 * A selection move by `delta` rows: within the page, or onto the next or previous page (its
 * first or last row). `index` is -1 when nothing is selected.
 */
export function step(index: number, delta: number, length: number, offset: number, total: number, pageSize = PAGE_SIZE):
  { offset: number; index: number } {
  if (length === 0) return { offset, index: -1 };
  const to = index < 0 ? (delta > 0 ? 0 : length - 1) : index + delta;
  if (to >= length) {
    return offset + length < total ? { offset: offset + pageSize, index: 0 } : { offset, index: length - 1 };
  }
  if (to < 0) return offset > 0 ? { offset: Math.max(0, offset - pageSize), index: pageSize - 1 } : { offset, index: 0 };
  return { offset, index: to };
}

/** The start of the last page of `total` rows. */
export function lastPageStart(total: number, pageSize = PAGE_SIZE): number {
  return total <= 0 ? 0 : Math.floor((total - 1) / pageSize) * pageSize;
}

// --- The poller ---------------------------------------------------------------------------------

/** The poll period: null while the window is hidden (nothing is polled then). */
export function pollInterval(panelOpen: boolean, visible: boolean): number | null {
  if (!visible) return null;
  return panelOpen ? POLL_OPEN_MS : POLL_BADGE_MS;
}

/**
 * Calls `tick` now and then every `interval()` ms after each answer (never two at once: a call
 * asked for meanwhile runs once after the one in flight). `interval()` null: no calls.
 */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private again = false;
  private running = false;

  constructor(private readonly tick: () => Promise<void>, private readonly interval: () => number | null) {}

  start(): void {
    this.running = true;
    this.now();
  }

  stop(): void {
    this.running = false;
    this.clear();
  }

  /** Polls now (unless polling is off or the window hidden), then on the interval. */
  now(): void {
    this.clear();
    if (!this.running || this.interval() === null) return;
    if (this.inFlight) { this.again = true; return; }
    this.inFlight = true;
    void this.tick().catch(() => {}).finally(() => {
      this.inFlight = false;
      if (this.again) { this.again = false; this.now(); } else this.schedule();
    });
  }

  /** Sets the next poll from the interval as it is now (after a change of period). */
  schedule(): void {
    this.clear();
    if (!this.running || this.inFlight) return;
    const ms = this.interval();
    if (ms !== null) this.timer = setTimeout(() => this.now(), ms);
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

// --- State --------------------------------------------------------------------------------------

/** The last status (null until the first answer), and why the last poll failed. */
export const status = signal<SyncStatus | null>(null);
export const statusError = signal<string | null>(null);
/** The filter chip, the page shown, and the selected row (by id). */
export const filter = signal<SyncJobState | null>(null);
export const offset = signal(0);
export const page = signal<SyncJobPage | null>(null);
export const jobsError = signal<string | null>(null);
export const selected = signal<number | null>(null);
/** The connect form's state: a connection being made, and the last refusal (verbatim). */
export const connecting = signal(false);
export const connectError = signal("");
/** The Disconnect confirmation is up. */
export const confirmingDisconnect = signal(false);
/** The last action's outcome (Retry now, Disconnect), for the status line. */
export const notice = signal("");

export function panelOpen(): boolean {
  return route.value.screen === "sync";
}

/** Bumped by connect / disconnect: a poll answer from before is stale. */
let generation = 0;
let jobsRequest = 0;
/** After a page move by the keys: the row to select when the page arrives ("last": its last). */
let selectOnLoad: number | "last" | null = null;

function applyStatus(s: SyncStatus): void {
  status.value = s;
  statusError.value = null;
  connection.value = connectionFromStatus(s);
}

export async function refreshStatus(): Promise<void> {
  const asked = generation;
  try {
    const s = await syncApi.status();
    if (asked !== generation || connecting.value) return;
    applyStatus(s);
  } catch (error) {
    if (asked === generation) statusError.value = userMessage(error);
  }
}

export async function refreshJobs(): Promise<void> {
  const request = ++jobsRequest;
  const at = offset.value;
  try {
    const next = await syncApi.jobs(filter.value, at, PAGE_SIZE);
    if (request !== jobsRequest) return;
    if (next.jobs.length === 0 && at > 0) {
      // the rows ran out under this page (sent, retried): the last page there is
      const last = lastPageStart(next.total);
      if (last < at) { offset.value = last; await refreshJobs(); return; }
    }
    const before = page.value?.jobs ?? [];
    page.value = next;
    jobsError.value = null;
    if (selectOnLoad !== null && next.jobs.length > 0) {
      const i = selectOnLoad === "last" ? next.jobs.length - 1 : Math.min(selectOnLoad, next.jobs.length - 1);
      selected.value = next.jobs[i].id;
    } else {
      selected.value = reselect(selected.value, before, next.jobs);
    }
    selectOnLoad = null;
  } catch (error) {
    if (request === jobsRequest) jobsError.value = userMessage(error);
  }
}

/** One poll: the status always, the rows while the panel is up. */
export async function refresh(): Promise<void> {
  await Promise.all([refreshStatus(), panelOpen() ? refreshJobs() : Promise.resolve()]);
}

export async function connect(url: string, code: string, stationName: string): Promise<boolean> {
  if (connecting.value) return false;
  const before = connection.value;
  generation += 1;
  connecting.value = true;
  connectError.value = "";
  connection.value = { state: "connecting", url: url.trim() };
  try {
    const s = await syncApi.connect(url.trim(), code.trim(), stationName.trim());
    generation += 1;
    applyStatus(s);
    notice.value = "";
    void refreshJobs();
    // a connected station works under router accounts: the login screen comes up
    void refreshAccount();
    // the first round with the router takes a moment: the badge asks again soon, not in 10 s
    setTimeout(() => poller?.now(), 1_500);
    return true;
  } catch (error) {
    generation += 1;
    connection.value = before;
    connectError.value = userMessage(error);
    return false;
  } finally {
    connecting.value = false;
  }
}

export async function disconnect(): Promise<void> {
  confirmingDisconnect.value = false;
  generation += 1;
  try {
    const s = await syncApi.disconnect();
    generation += 1;
    applyStatus(s);
    notice.value = "Disconnected. The outbox is kept and sent when you connect again.";
    void refreshAccount();
  } catch (error) {
    notice.value = userMessage(error);
  }
}

/** "Retry now": one row, or (null) every row waiting to retry. */
export async function retry(id: number | null): Promise<void> {
  try {
    const moved = await syncApi.retry(id);
    notice.value = moved === 0 ? "Nothing to retry: it has moved on already"
      : `${moved.toLocaleString()} row${moved === 1 ? "" : "s"} sent to the queue again`;
  } catch (error) {
    notice.value = userMessage(error);
  }
  await refresh();
}

export function setFilter(next: SyncJobState | null): void {
  if (filter.value === next) return;
  filter.value = next;
  offset.value = 0;
  page.value = null;
  selected.value = null;
  void refreshJobs();
}

export function goToPage(start: number): void {
  const total = page.value?.total ?? 0;
  const to = Math.max(0, Math.min(start, lastPageStart(total)));
  if (to === offset.value) return;
  offset.value = to;
  selected.value = null;
  void refreshJobs();
}

export function selectedJob(): SyncJob | null {
  return page.value?.jobs.find((j) => j.id === selected.value) ?? null;
}

export function moveSelection(delta: number): void {
  const p = page.value;
  if (!p) return;
  const index = p.jobs.findIndex((j) => j.id === selected.value);
  const to = step(index, delta, p.jobs.length, offset.value, p.total);
  if (to.offset === offset.value) {
    if (to.index >= 0) selected.value = p.jobs[to.index].id;
    return;
  }
  selectOnLoad = to.offset < offset.value ? "last" : 0;
  offset.value = to.offset;
  void refreshJobs();
}

export function canRetry(job: SyncJob): boolean {
  return job.state === "retrying" || job.state === "parked";
}

/** Shows the row's item in the items screen (the panel closes so it is seen). */
export function openItem(job: SyncJob): void {
  if (job.item_id === null) return;
  showItem(job.item_id);
  closeScreen("sync");
}

export function toggleSync(): void {
  toggleScreen("sync");
}

// --- Keys and polling ---------------------------------------------------------------------------

/** The panel's keys; the rest go to the items screen beneath (it is a side panel). */
export function syncKeys(event: KeyboardEvent): boolean {
  if (event.key === "Escape") {
    if (confirmingDisconnect.value) confirmingDisconnect.value = false;
    else closeScreen("sync");
    return true;
  }
  const target = event.target as HTMLElement | null;
  if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return false;
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const job = selectedJob();
  switch (event.key) {
    case "ArrowDown": moveSelection(1); return true;
    case "ArrowUp": moveSelection(-1); return true;
    case "r": if (job && canRetry(job)) void retry(job.id); return true;
    case "o": if (job) openItem(job); return true;
    case "s": closeScreen("sync"); return true;
    default: return false;
  }
}

let poller: Poller | null = null;

/** Registers the panel's keys and starts the one poller (the badge follows it from now on). */
export function setupSync(doc: Document = document): void {
  keys.register("sync", syncKeys, { passThrough: true });
  if (poller) return;
  const p = new Poller(refresh, () => pollInterval(panelOpen(), doc.visibilityState !== "hidden"));
  poller = p;
  doc.addEventListener("visibilitychange", () => {
    if (doc.visibilityState === "hidden") p.schedule(); // no interval while hidden: stops
    else p.now();
  });
  let wasOpen: boolean | null = null;
  effect(() => {
    const open = panelOpen();
    untracked(() => {
      if (wasOpen !== null && open !== wasOpen) {
        if (open) { notice.value = ""; p.now(); } else { confirmingDisconnect.value = false; p.schedule(); }
      }
      wasOpen = open;
    });
  });
  p.start();
}
