// The review workbench's state and moves, apart from how they are drawn: one queue across
// compliance, invoice and legal results, worked through from the keyboard. The next task is
// claimed while the current one is on screen, so moving on never waits; decisions are saved in
// order behind the screen (save-queue.ts), retried when a save fails, and kept until the
// station has them. The screen (ReviewScreen.tsx) renders these signals and calls these moves.
import { batch, computed, signal } from "@preact/signals";
import { api, errorMessage, events, reviewApi } from "../api";
import type { DecisionInput } from "../bindings/DecisionInput";
import type { QueuePage } from "../bindings/QueuePage";
import type { QueueQuery } from "../bindings/QueueQuery";
import type { ResultKind } from "../bindings/ResultKind";
import type { ReviewTask } from "../bindings/ReviewTask";
import type { RoutingReason } from "../bindings/RoutingReason";
import type { RejectReason } from "../bindings/RejectReason";
import { session, showBanner } from "../app/state";
import { signedIn } from "../login/account";
import { percentile } from "./charts";
import { PagedList } from "../virtual-list";
import { applyComplianceEdit, applyEdit, isFinalSaveError } from "./fields";
import { SaveQueue } from "./save-queue";

export const QUEUE_PAGE = 100;
/** Leases are renewed this often while a task is on screen (they last 10 minutes). */
const RENEW_MS = 60_000;

/** Keeps the last `size` timings. */
function remember(ring: number[], value: number, size = 500): void {
  ring.push(value);
  if (ring.length > size) ring.shift();
}

export interface Filters {
  kind: ResultKind | "";
  reason: RoutingReason | "";
  store: string;
  /** Hours: only tasks created longer ago than this ("" any). */
  age: string;
  sort: QueueQuery["sort"];
}

/** This session's timings, the last and the p95 of each: a benchmark reads them off the screen. */
export interface Timings {
  nextLast: number;
  nextP95: number;
  nextCount: number;
  saveLast: number;
  saveP95: number;
  saveCount: number;
  commitLast: number;
  commitP95: number;
}

export class Workbench {
  readonly open = signal(false);
  readonly filters = signal<Filters>({ kind: "", reason: "", store: "", age: "", sort: "lowest_confidence" });
  /** The task being decided, and a decided one shown by K (read-only). */
  readonly current = signal<ReviewTask | null>(null);
  readonly viewing = signal<ReviewTask | null>(null);
  /** The reviewer's corrections to the current task: field (or "valid", "category", "rule:id") → value. */
  readonly edits = signal<ReadonlyMap<string, string>>(new Map());
  readonly loadingNext = signal(false);
  readonly rejecting = signal(false);
  readonly helpOpen = signal(false);
  readonly metricsOpen = signal(false);
  /** The queue beside the task view: its total and the rows loaded (so that the two agree). */
  readonly queueTotal = signal(0);
  readonly queueListed = signal<ReviewTask[]>([]);
  readonly queueOldest = signal<string | null>(null);
  readonly queueError = signal<string | null>(null);
  /** Bumped when a page of the queue arrives. */
  readonly queueVersion = signal(0);
  /** The stores to filter by, and the categories a compliance result may be corrected to. */
  readonly storeOptions = signal<[string, string][]>([]);
  readonly categories = signal<string[]>([]);
  /** Bumped when the save queue changes (the status line). */
  readonly savesVersion = signal(0);
  readonly timings = signal<Timings>({ nextLast: 0, nextP95: 0, nextCount: 0, saveLast: 0, saveP95: 0, saveCount: 0, commitLast: 0, commitP95: 0 });
  /** Who decides: the signed-in account (router mode), else the name typed on this station. */
  readonly reviewer = computed(() => signedIn.value?.name ?? session.value.reviewer ?? "");

  readonly queue: PagedList<ReviewTask>;
  readonly saves: SaveQueue;
  /** This session's timings: decision key → next task painted, one decision's save, and the
   * station's own commit (the round trip also waits for IPC and this page's main thread). */
  readonly shownMs: number[] = [];
  readonly savedMs: number[] = [];
  private readonly committedMs: number[] = [];
  private shownCount = 0;
  private savedCount = 0;

  private next: ReviewTask | null = null;
  private readonly history: ReviewTask[] = [];
  private shownAt = performance.now();
  private awaitingNext: number | null = null;
  private preloading: Promise<void> | null = null;
  private refreshing = false;
  private refreshAgain = false;
  private policyNotice = "";
  private policyBanner = false;
  private ready: Promise<void> = Promise.resolve();

  constructor(storage: Storage) {
    this.saves = new SaveQueue({
      decide: (s) => reviewApi.decide(s.taskId, s.decision, s.durationMs),
      isFinal: isFinalSaveError,
      message: errorMessage,
      saved: (_, record, roundTripMs) => {
        remember(this.savedMs, roundTripMs);
        remember(this.committedMs, record.commit_ms);
        if (record.learn_error) showBanner(`Saved; the photo could not be added as a reference: ${record.learn_error}`);
        this.savedCount += 1;
        this.updateTimings();
      },
      // decided elsewhere, taken over by another reviewer, or refused: it stays listed
      refused: (f) => showBanner(`Your ${f.decision.action} of task ${f.taskId} could not be recorded: ${f.error}`),
      changed: () => { this.savesVersion.value += 1; },
      idle: () => this.refreshQueue(),
    }, storage);
    this.queue = new PagedList<ReviewTask>(async (offset, limit) => {
      const page = await reviewApi.queue(this.query(), offset, limit);
      this.onPage(page);
      return { total: page.total, offset, items: page.tasks };
    }, () => { this.queueVersion.value += 1; }, QUEUE_PAGE, (error) => { this.queueError.value = errorMessage(error); });
  }

  /** Reads the session and the unsaved decisions of this data directory; listens for policies. */
  setup(): void {
    // the data directory keys the unsaved decisions; the station knows who is signed in
    this.ready = (async () => {
      const [info, who] = await Promise.all([api.appInfo(), api.session()]);
      session.value = who;
      this.saves.open(info.data_dir);
    })().catch((error: unknown) => showBanner(`Could not read the session: ${errorMessage(error)}`));
    // routing policies are reloaded as they are saved; a rejected edit is said at once
    void events.onPolicyChanged((e) => {
      if (e.error) {
        this.policyBanner = true;
        showBanner(`Routing policy of ${e.store_id} not applied, the previous one stays: ${e.error}`);
      } else if (this.policyBanner) {
        this.policyBanner = false;
        showBanner(null);
      }
    });
    // Leases last 10 minutes; while the workbench is open, the tasks on screen stay leased.
    setInterval(() => this.renew(), RENEW_MS);
    window.addEventListener("beforeunload", () => { if (this.reviewer.value && this.open.value) void this.releaseHeld(); });
  }

  query(): QueueQuery {
    const f = this.filters.value;
    return {
      kind: f.kind || null,
      store_id: f.store || null,
      reason: f.reason || null,
      created_before: f.age ? new Date(Date.now() - Number(f.age) * 3_600_000).toISOString() : null,
      sort: f.sort,
    };
  }

  show(): void {
    this.open.value = true;
    void this.ready.then(() => this.start());
  }

  close(): void {
    this.open.value = false;
    if (this.reviewer.value) void this.releaseHeld();
  }

  setFilters(change: Partial<Filters>): void {
    this.filters.value = { ...this.filters.value, ...change };
    void this.start();
  }

  async signIn(name: string): Promise<void> {
    try {
      session.value = await api.signIn(name);
      await this.start();
    } catch (error) {
      showBanner(errorMessage(error));
    }
  }

  /**
   * Before the reviewer changes (a switch, an account signing out): false while decisions of
   * this one are still being saved (they are saved as them); otherwise the tasks on screen go back.
   */
  async leave(): Promise<boolean> {
    const unsaved = this.saves.pending.length;
    if (unsaved > 0) {
      showBanner(`${unsaved} decision${unsaved === 1 ? " is" : "s are"} still being saved for ${this.reviewer.value}; switch reviewers once ${unsaved === 1 ? "it has" : "they have"} landed.`);
      return false;
    }
    await this.releaseHeld();
    this.history.length = 0;
    this.viewing.value = null;
    return true;
  }

  /** Switches reviewer (local mode): once every decision of this one has landed. */
  async signOut(): Promise<void> {
    if (!(await this.leave())) return;
    try {
      session.value = await api.signOut();
    } catch (error) {
      showBanner(errorMessage(error));
    }
  }

  async start(): Promise<void> {
    try {
      const stores = await api.listStores();
      this.categories.value = [...new Set(stores.stores.flatMap((st) => st.categories.map((c) => c.name)))];
      this.storeOptions.value = [...stores.stores.map((st): [string, string] => [st.id, st.name]), ["default", "No store"]];
    } catch {
      this.categories.value = [];
    }
    if (!this.reviewer.value) return;
    await this.releaseHeld();
    try {
      this.showTask(await reviewApi.claimNext(this.query(), this.notToClaim()));
    } catch (error) {
      showBanner(errorMessage(error));
    }
    this.refreshQueue();
  }

  /** The reviewer's own leases can be claimed again (after a reload the task they were on comes
   * back), so a claim names what must not come back: the tasks whose decisions are still being
   * saved, and the ones on screen. */
  private notToClaim(...held: number[]): number[] {
    return [...new Set([...this.saves.taskIds(), ...held])];
  }

  private onPage(page: QueuePage): void {
    batch(() => {
      this.queueError.value = null;
      this.queueTotal.value = Number(page.total);
      if (page.tasks.length > 0 || page.total === 0) this.queueListed.value = page.tasks;
      this.queueOldest.value = page.oldest_created_at;
    });
    const notice = page.policy_errors.map((p) => `Routing policy of ${p.store_id} not applied, the previous one stays: ${p.error ?? ""}`).join(" · ");
    if (notice !== this.policyNotice) {
      this.policyNotice = notice;
      showBanner(notice || null);
    }
  }

  /** One refresh at a time; a burst of saves asks for one more at most. */
  refreshQueue(): void {
    if (this.refreshing) { this.refreshAgain = true; return; }
    this.refreshing = true;
    void this.queue.reset().finally(() => {
      this.refreshing = false;
      if (this.refreshAgain) { this.refreshAgain = false; this.refreshQueue(); }
    });
  }

  /** One claim of the next task at a time; a decision made before it lands waits for it. */
  private preload(): Promise<void> {
    if (this.preloading) return this.preloading;
    const current = this.current.value;
    if (!current || this.next) return Promise.resolve();
    const holding = current.id;
    this.preloading = (async () => {
      try {
        const claimed = await reviewApi.claimNext(this.query(), this.notToClaim(holding));
        if (claimed && claimed.id === this.current.value?.id) return;
        this.next = claimed;
      } catch (error) {
        showBanner(errorMessage(error));
      } finally {
        this.preloading = null;
      }
    })();
    return this.preloading;
  }

  private showTask(task: ReviewTask | null): void {
    batch(() => {
      this.current.value = task;
      this.viewing.value = null;
      this.edits.value = new Map();
      this.rejecting.value = false;
    });
    this.shownAt = performance.now();
    if (task && this.awaitingNext !== null) {
      const began = this.awaitingNext;
      this.awaitingNext = null;
      // painted: the frame after the render the signals scheduled
      requestAnimationFrame(() => {
        remember(this.shownMs, performance.now() - began);
        this.shownCount += 1;
        this.updateTimings();
      });
    }
    void this.preload();
  }

  private updateTimings(): void {
    const last = (ring: number[]) => ring[ring.length - 1] ?? 0;
    this.timings.value = {
      nextLast: last(this.shownMs), nextP95: percentile(this.shownMs, 0.95), nextCount: this.shownCount,
      saveLast: last(this.savedMs), saveP95: percentile(this.savedMs, 0.95), saveCount: this.savedCount,
      commitLast: last(this.committedMs), commitP95: percentile(this.committedMs, 0.95),
    };
  }

  /** Gives the tasks on screen and pre-loaded back to the queue (closing, switching reviewer). */
  private async releaseHeld(): Promise<void> {
    const held = [this.current.value, this.next].filter((t): t is ReviewTask => t !== null);
    this.current.value = null;
    this.next = null;
    // a task whose decision is still being saved is not given back
    for (const t of held) if (!this.saves.has(t.id)) await reviewApi.release(t.id).catch(() => false);
  }

  private renew(): void {
    if (!this.open.value || !this.reviewer.value) return;
    const ids = [this.current.value?.id, this.next?.id].filter((id): id is number => id !== undefined);
    if (ids.length === 0) return;
    void reviewApi.renew(ids).then((held) => {
      if (this.next && !held.includes(this.next.id)) { this.next = null; void this.preload(); }
      const current = this.current.value;
      if (current && !held.includes(current.id)) {
        showBanner(`Task ${current.id} was claimed by another reviewer after your lease ran out; it is theirs now.`);
        const next = this.next;
        this.next = null;
        this.showTask(next);
      }
    }).catch(() => {});
  }

  private decideCurrent(decision: DecisionInput): void {
    const task = this.current.value;
    if (!task || this.viewing.value) return;
    this.saves.push({ taskId: task.id, reviewer: this.reviewer.value, decision, durationMs: Math.round(performance.now() - this.shownAt), attempts: 0 });
    this.history.push(task);
    const upcoming = this.next;
    this.next = null;
    this.awaitingNext = performance.now();
    const inFlightClaim = this.preloading;
    this.loadingNext.value = upcoming === null;
    this.showTask(upcoming);
    if (upcoming) return;
    void (async () => {
      try {
        // the pre-load still on its way, or else a claim now (the decided task stays leased
        // to this reviewer until its save lands, so it is not offered again)
        if (inFlightClaim) await inFlightClaim;
        if (this.current.value) return;
        const claimed = this.next ?? await reviewApi.claimNext(this.query(), this.notToClaim());
        this.next = null;
        this.loadingNext.value = false;
        if (!this.current.value) this.showTask(claimed);
      } catch (error) {
        this.loadingNext.value = false;
        showBanner(errorMessage(error));
      }
    })();
  }

  approve(): void {
    const current = this.current.value;
    if (!current) return;
    const edits = this.edits.value;
    if (edits.size === 0) { this.decideCurrent({ action: "approve" }); return; }
    if (current.kind === "compliance") {
      const valid = edits.has("valid") ? edits.get("valid") === "true" : null;
      const rules = new Map([...edits].filter(([k]) => k.startsWith("rule:")).map(([k, v]) => [k.slice(5), v === "true"]));
      this.decideCurrent({ action: "correct", after: applyComplianceEdit(current.model_output, valid, edits.get("category") ?? null, rules) });
      return;
    }
    let after: unknown = current.model_output;
    for (const [name, text] of edits) after = applyEdit(after, name, text);
    this.decideCurrent({ action: "correct", after });
  }

  startReject(): void {
    if (this.current.value && !this.viewing.value) this.rejecting.value = true;
  }

  reject(reason: RejectReason | null): void {
    this.rejecting.value = false;
    if (reason) this.decideCurrent({ action: "reject", reason_code: reason });
  }

  /** Sets (or with `null`, drops) one correction. */
  edit(key: string, value: string | null): void {
    const edits = new Map(this.edits.value);
    if (value === null) edits.delete(key);
    else edits.set(key, value);
    this.edits.value = edits;
  }

  toggleValid(): void {
    const current = this.current.value;
    if (current?.kind !== "compliance" || this.viewing.value) return;
    const model = (current.model_output as { valid: boolean }).valid;
    const edits = this.edits.value;
    const now = edits.has("valid") ? edits.get("valid") === "true" : model;
    this.edit("valid", !now === model ? null : String(!now));
  }

  toggleRule(id: string, modelPassed: boolean): void {
    const key = `rule:${id}`;
    this.edit(key, this.edits.value.has(key) ? null : String(!modelPassed));
  }

  /** K: the last decided task, read-only (U undoes it, J goes back). */
  back(): void {
    const last = this.history[this.history.length - 1];
    if (last) this.viewing.value = last;
  }

  async undo(): Promise<void> {
    const last = this.history.pop();
    if (!last) return;
    this.viewing.value = null;
    // the task is ours again; what was on screen waits as the next one
    const bringBack = async () => {
      const current = this.current.value;
      if (current) {
        if (this.next) await reviewApi.release(this.next.id).catch(() => false);
        this.next = current;
      }
      batch(() => {
        this.current.value = last;
        this.edits.value = new Map();
      });
      this.shownAt = performance.now();
    };
    // not saved yet: taking it back is dropping it (the task is still this reviewer's)
    if (this.saves.dropUnsent(last.id)) {
      await bringBack();
      return;
    }
    await this.saves.settled();
    try {
      await reviewApi.undo(last.id);
      await bringBack();
      this.refreshQueue();
    } catch (error) {
      this.history.push(last);
      showBanner(`Could not undo: ${errorMessage(error)}`);
    }
  }

  async skip(): Promise<void> {
    if (this.viewing.value) { this.viewing.value = null; return; }
    const skipped = this.current.value;
    if (!skipped) return;
    const next = this.next;
    this.next = null;
    this.showTask(next);
    await reviewApi.release(skipped.id).catch(() => false);
    if (!this.current.value) this.showTask(await reviewApi.claimNext(this.query(), this.notToClaim(skipped.id)));
    else void this.preload();
  }
}
