// The admin screen's state and moves: the range, bucket and filters; the dashboard, the local
// engine's figures and the recent requests for them; the live counters (every 10 s while the
// screen is up, never when it is not); the CSV exports; and its keys. The screen (AdminScreen.tsx)
// draws these signals.
import { effect, signal, untracked } from "@preact/signals";
import { adminApi, errorMessage } from "../api";
import type { CsvTable } from "../bindings/CsvTable";
import type { DashboardQuery } from "../bindings/DashboardQuery";
import type { DashboardView } from "../bindings/DashboardView";
import type { Freshness } from "../bindings/Freshness";
import type { LiveView } from "../bindings/LiveView";
import type { LocalStats } from "../bindings/LocalStats";
import type { RequestView } from "../bindings/RequestView";
import { closeScreen, openScreen, route, type Screen } from "../app/router";
import { keys } from "../keys";
import { isAdmin } from "../login/account";
import { NO_FILTERS, buildQuery, type BucketChoice, type Filters, type Range } from "./range";

/** The live counters' period while the screen is up (ms), and the offline age's. */
export const LIVE_MS = 10_000;
export const AGE_MS = 60_000;

export const range = signal<Range>({ preset: "24h" });
export const bucketChoice = signal<BucketChoice>("auto");
export const filters = signal<Filters>(NO_FILTERS);
/** The query the data on screen answers (the exports send it). */
export const query = signal<DashboardQuery | null>(null);

export const dashboard = signal<DashboardView | null>(null);
export const dashboardError = signal<string | null>(null);
export const loading = signal(false);
export const live = signal<LiveView | null>(null);
export const liveError = signal<string | null>(null);
export const local = signal<LocalStats | null>(null);
export const localError = signal<string | null>(null);

/** The recent requests, newest first, and where the next older page starts (null: no more). */
export const requests = signal<RequestView[]>([]);
export const nextBefore = signal<string | null>(null);
export const requestsFreshness = signal<Freshness | null>(null);
export const requestsError = signal<string | null>(null);
export const requestsLoading = signal(false);
/** Requests shown with their attempts. */
export const expanded = signal<ReadonlySet<string>>(new Set());

/** The last export's outcome, beside its button. */
export const exportStatus = signal<{ table: CsvTable; text: string } | null>(null);
/** The clock the offline banner's age reads (ticks each minute while the screen is up). */
export const now = signal(Date.now());

export function adminOpen(): boolean {
  return route.value.screen === "admin";
}

/** Answers to a query asked before the last change are dropped. */
let generation = 0;

function message(error: unknown): string {
  return typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message : errorMessage(error);
}

async function loadDashboard(q: DashboardQuery, asked: number): Promise<void> {
  try {
    const view = await adminApi.dashboard(q);
    if (asked !== generation) return;
    dashboard.value = view;
    dashboardError.value = null;
  } catch (error) {
    if (asked === generation) dashboardError.value = message(error);
  }
}

async function loadLocal(q: DashboardQuery, asked: number): Promise<void> {
  try {
    const stats = await adminApi.localStats(q.from ?? "", q.to ?? "");
    if (asked !== generation) return;
    local.value = stats;
    localError.value = null;
  } catch (error) {
    if (asked === generation) localError.value = message(error);
  }
}

async function loadRequests(q: DashboardQuery, before: string | null, asked: number): Promise<void> {
  requestsLoading.value = true;
  try {
    const view = await adminApi.requests(q, before);
    if (asked !== generation) return;
    requests.value = before === null ? view.page.requests : [...requests.value, ...view.page.requests];
    nextBefore.value = view.page.next_before;
    requestsFreshness.value = view.freshness;
    requestsError.value = null;
  } catch (error) {
    if (asked === generation) requestsError.value = message(error);
  } finally {
    if (asked === generation) requestsLoading.value = false;
  }
}

/** Everything for the range, bucket and filters as they are now (a preset ends now). */
export async function reload(): Promise<void> {
  const asked = ++generation;
  const q = buildQuery(range.value, bucketChoice.value, filters.value, Date.now());
  query.value = q;
  loading.value = true;
  expanded.value = new Set();
  exportStatus.value = null;
  try {
    await Promise.all([loadDashboard(q, asked), loadLocal(q, asked), loadRequests(q, null, asked)]);
  } finally {
    if (asked === generation) loading.value = false;
  }
}

export function setRange(next: Range): void {
  range.value = next;
  void reload();
}

export function setBucket(next: BucketChoice): void {
  bucketChoice.value = next;
  void reload();
}

export function setFilter<K extends keyof Filters>(key: K, value: Filters[K]): void {
  filters.value = { ...filters.value, [key]: value };
  void reload();
}

/** "Load older": the next page back, under the same query. */
export async function loadOlder(): Promise<void> {
  const q = query.value;
  const before = nextBefore.value;
  if (q === null || before === null || requestsLoading.value) return;
  await loadRequests(q, before, generation);
}

export function toggleExpanded(id: string): void {
  const next = new Set(expanded.value);
  if (!next.delete(id)) next.add(id);
  expanded.value = next;
}

export async function refreshLive(): Promise<void> {
  try {
    live.value = await adminApi.live();
    liveError.value = null;
  } catch (error) {
    liveError.value = message(error);
  }
}

/** Saves a table as CSV (the station asks where): "N rows saved", or nothing when cancelled. */
export async function exportCsv(table: CsvTable): Promise<void> {
  const q = query.value ?? buildQuery(range.value, bucketChoice.value, filters.value, Date.now());
  exportStatus.value = { table, text: "Saving…" };
  try {
    const rows = await adminApi.exportCsv(table, q);
    exportStatus.value = rows === null ? null : { table, text: `${rows.toLocaleString()} row${rows === 1 ? "" : "s"} saved` };
  } catch (error) {
    exportStatus.value = { table, text: message(error) };
  }
}

/** The freshness the banner speaks for: the first view that is a snapshot. */
export function staleFreshness(): Freshness | null {
  const views = [dashboard.value?.freshness, requestsFreshness.value, live.value?.freshness];
  return views.find((f): f is Freshness => !!f && !f.fresh) ?? null;
}

// --- Opening, closing, timers and keys -------------------------------------------------------------

/** The screen the admin screen came over (Esc goes back to it). */
let cameFrom: Screen = "items";

export function openAdmin(): void {
  if (!isAdmin.value || adminOpen()) return;
  const from = route.value.screen;
  cameFrom = from === "login" ? "items" : from;
  openScreen("admin");
}

export function closeAdmin(): void {
  if (!adminOpen()) return;
  if (cameFrom !== "items" && cameFrom !== "admin") openScreen(cameFrom);
  else closeScreen("admin");
}

export function toggleAdmin(): void {
  if (adminOpen()) closeAdmin();
  else openAdmin();
}

export function adminKeys(event: KeyboardEvent): boolean {
  if (event.key === "Escape") { closeAdmin(); return true; }
  const target = event.target as HTMLElement | null;
  if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return false;
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  switch (event.key) {
    case "a": closeAdmin(); return true;
    case "r": void reload(); void refreshLive(); return true;
    case "1": setRange({ preset: "1h" }); return true;
    case "2": setRange({ preset: "24h" }); return true;
    case "3": setRange({ preset: "7d" }); return true;
    case "4": setRange({ preset: "30d" }); return true;
    default: return false;
  }
}

let timers: ReturnType<typeof setInterval>[] = [];

function stopTimers(): void {
  for (const t of timers) clearInterval(t);
  timers = [];
}

/** While the screen is up: loaded on opening, the live counters every 10 s, the age each minute. */
function startTimers(): void {
  stopTimers();
  now.value = Date.now();
  void reload();
  void refreshLive();
  timers = [
    setInterval(() => void refreshLive(), LIVE_MS),
    setInterval(() => { now.value = Date.now(); }, AGE_MS),
  ];
}

let setUp = false;

/** Registers the keys; the timers follow the route (any way the screen closes stops them). */
export function setupAdmin(): void {
  keys.register("admin", adminKeys);
  if (setUp) return;
  setUp = true;
  let wasOpen = false;
  effect(() => {
    const open = adminOpen();
    untracked(() => {
      if (open && !wasOpen) startTimers();
      else if (!open && wasOpen) stopTimers();
      wasOpen = open;
    });
  });
  // an account that is no admin (signed out, another signed in) does not keep the screen
  effect(() => {
    if (!isAdmin.value && untracked(adminOpen)) closeScreen("admin");
  });
}

/** For tests: timers stopped, the effects' state kept. */
export function activeTimers(): number {
  return timers.length;
}
