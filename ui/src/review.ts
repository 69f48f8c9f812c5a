// The review workbench: one queue across compliance, invoice and legal results, worked through
// from the keyboard. The next task is claimed while the current one is on screen, so moving on
// never waits; decisions are saved in order behind the screen, retried when a save fails, and
// kept (also in localStorage) until the station has them.
//
// Its parts: the save queue (save-queue.ts) and the metrics panel (review-metrics.ts) are their
// own modules; past 600 lines still because the queue list, the task view and the keys share
// one closure's state until the UI moves to a reactive library (issue 14, point 4). The pure
// parts above `setupReview` are unit-tested.
import { api, blobUrl, errorMessage, events, isApiError, reviewApi } from "./api";
import { keys } from "./keys";
import { SaveQueue } from "./save-queue";
import { fillMetrics, percentile } from "./review-metrics";
import { REJECT_REASONS, REJECT_REASON_LABELS, RESULT_KINDS, RESULT_KIND_LABELS, ROUTING_REASONS, ROUTING_REASON_LABELS, TRANSIENT_ERROR_CODES } from "./bindings/constants";
import type { DecisionInput } from "./bindings/DecisionInput";
import type { QueuePage } from "./bindings/QueuePage";
import type { QueueQuery } from "./bindings/QueueQuery";
import type { ReviewTask } from "./bindings/ReviewTask";
import { byId, h } from "./dom";
import { PagedList, visibleRange } from "./virtual-list";


export const QUEUE_PAGE = 100;
/** Height of a queue row (px): the queue is windowed, only visible rows exist. */
export const QUEUE_ROW = 44;
/** Leases are renewed this often while a task is on screen (they last 10 minutes). */
const RENEW_MS = 60_000;
export const SHORTCUTS: [string, string][] = [
  ["A", "approve (with your edits: save the correction)"],
  ["R", "reject with a reason code (↑/↓ to choose, Enter to confirm, Esc to cancel)"],
  ["E", "edit the first doubtful field"],
  ["Tab / Shift+Tab", "next / previous low-confidence field (compliance: rule)"],
  ["Enter / Esc (in a field)", "keep / undo the edit"],
  ["Space (on a rule)", "compliance: mark the rule passed / failed"],
  ["U", "undo the last decision (the task comes back)"],
  ["J or ↓", "next task (skip this one; it goes back to the queue)"],
  ["K or ↑", "previous task (look at the last decision; U undoes it)"],
  ["V", "compliance: toggle valid / invalid"],
  ["C", "compliance: choose the category the photo shows"],
  ["M", "metrics"],
  ["X / Shift+X (metrics)", "export the evaluation set as JSONL / CSV"],
  ["I (metrics)", "verify the audit trail"],
  ["PageDown / PageUp", "scroll the queue"],
  ["?", "this list"],
  ["Esc", "close the workbench (your tasks go back to the queue)"],
];

/** A field of a result as the workbench shows it. */
export interface FieldView {
  name: string;
  value: string;
  confidence: number;
  failed: string[];
  doubtful: boolean;
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "iso" in value) return String((value as { iso: unknown }).iso);
  return JSON.stringify(value);
}

/** The fields of a model output (top-level objects with a confidence), doubtful ones marked. */
export function fieldsOf(output: unknown, doubtful: string[]): FieldView[] {
  if (typeof output !== "object" || output === null) return [];
  return Object.entries(output as Record<string, unknown>).flatMap(([name, field]) => {
    if (typeof field !== "object" || field === null || !("confidence" in field)) return [];
    const f = field as { value?: unknown; confidence: number; checks?: { name: string; passed: boolean }[] };
    const failed = (f.checks ?? []).filter((c) => !c.passed).map((c) => c.name);
    return [{ name, value: valueText(f.value), confidence: f.confidence, failed, doubtful: doubtful.includes(name) || failed.length > 0 }];
  });
}

/** The output with one field's value replaced by what the reviewer typed (keeping its type). */
export function applyEdit(output: unknown, name: string, text: string): unknown {
  const copy = structuredClone(output) as Record<string, { value?: unknown }>;
  const field = copy[name];
  if (!field) return copy;
  const old = field.value;
  if (typeof old === "object" && old !== null && "iso" in old) field.value = { ...(old as object), iso: text, ambiguous: false };
  else if (typeof old === "number") field.value = Number(text);
  else field.value = text === "" ? null : text;
  return copy;
}

/**
 * A compliance result as the reviewer corrected it: valid or not, the category shown, and
 * rules the reviewer judged otherwise (`rules`: rule id → passed).
 */
export function applyComplianceEdit(output: unknown, valid: boolean | null, category: string | null,
  rules: Map<string, boolean> = new Map()): unknown {
  const copy = structuredClone(output) as { valid?: boolean; category?: { predicted?: string | null } | null;
    rules?: { id: string; passed: boolean | null }[] };
  if (valid !== null) copy.valid = valid;
  if (category !== null) copy.category = { ...(copy.category ?? {}), predicted: category };
  for (const rule of copy.rules ?? []) {
    const passed = rules.get(rule.id);
    if (passed !== undefined) rule.passed = passed;
  }
  return copy;
}

/**
 * Whether a save failed for good (decided elsewhere, taken over, refused) or may be retried:
 * decided by the error's code. Anything that is not the station's error (the IPC itself
 * failed) may pass on a retry.
 */
export function isFinalSaveError(error: unknown): boolean {
  return isApiError(error) && !TRANSIENT_ERROR_CODES.includes(error.code);
}

/**
 * What the task view says when no task could be claimed, in agreement with the queue beside it:
 * nothing is open, or every open task is leased to someone else (who, and until when).
 */
export function emptyTaskMessage(total: number, listed: readonly ReviewTask[], reviewer: string): string {
  if (total === 0) return "Nothing to review with these filters.";
  const leased = listed.find((t) => t.lease_owner && t.lease_owner !== reviewer);
  if (!leased?.lease_owner) return `${total} open ${total === 1 ? "task is" : "tasks are"} in the queue, but none could be claimed just now; retrying…`;
  const until = leased.lease_expires_at ? new Date(leased.lease_expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "its lease ends";
  const others = total === 1 ? "" : ` (every open task here is leased to another reviewer)`;
  return `Task ${leased.id} is being reviewed by ${leased.lease_owner} until ${until}${others}: it comes back to the queue if it is not decided by then.`;
}

function doubtfulOf(task: ReviewTask): string[] {
  const v = task.versions as { doubtful_fields?: string[] } | null;
  return v?.doubtful_fields ?? [];
}

/** Keeps the last `size` timings. */
function remember(ring: number[], value: number, size = 500): void {
  ring.push(value);
  if (ring.length > size) ring.shift();
}

export function setupReview(showBanner: (message: string | null) => void): { open: () => void } {
  const root = byId("review");
  const queueEl = byId("review-queue");
  const taskEl = byId("review-task");
  const statusEl = byId("review-status");
  const countEl = byId("review-count");
  const kindSel = byId<HTMLSelectElement>("review-kind");
  const reasonSel = byId<HTMLSelectElement>("review-reason");
  const sortSel = byId<HTMLSelectElement>("review-sort");
  kindSel.append(...RESULT_KINDS.map((k) => h("option", { value: k }, RESULT_KIND_LABELS[k])));
  reasonSel.append(...ROUTING_REASONS.map((r) => h("option", { value: r }, ROUTING_REASON_LABELS[r])));
  const storeSel = byId<HTMLSelectElement>("review-store");
  const ageSel = byId<HTMLSelectElement>("review-age");
  const spacer = byId("review-queue-spacer");
  const switchBtn = byId<HTMLButtonElement>("review-reviewer-switch");
  const help = byId("review-help");
  const metricsEl = byId("review-metrics");

  // the session's reviewer, as the station has it (never kept in the webview: its storage is
  // shared by every data directory)
  let reviewer = "";
  let current: ReviewTask | null = null;
  let next: ReviewTask | null = null;
  let viewing: ReviewTask | null = null; // a decided task shown by K
  let shownAt = performance.now();
  let edits = new Map<string, string>();
  const history: ReviewTask[] = [];
  // this session's timings: decision key → next task painted, and one decision's save
  const shownMs: number[] = [];
  const savedMs: number[] = [];
  // the station's own time to commit each decision (the round trip above also waits for IPC
  // and for this page's main thread)
  const committedMs: number[] = [];
  let shownCount = 0;
  let savedCount = 0;
  const timings = () => {
    // the last and the p95 of each, and how many: a benchmark reads them off the element
    statusEl.dataset.nextLast = (shownMs[shownMs.length - 1] ?? 0).toFixed(1);
    statusEl.dataset.nextCount = String(shownCount);
    statusEl.dataset.saveLast = (savedMs[savedMs.length - 1] ?? 0).toFixed(1);
    statusEl.dataset.saveCount = String(savedCount);
    statusEl.dataset.commitLast = (committedMs[committedMs.length - 1] ?? 0).toFixed(2);
    statusEl.dataset.commitP95 = percentile(committedMs, 0.95).toFixed(2);
    statusEl.dataset.nextP95 = percentile(shownMs, 0.95).toFixed(1);
    statusEl.dataset.saveP95 = percentile(savedMs, 0.95).toFixed(1);
    statusEl.title = `This session: next task shown in ${statusEl.dataset.nextP95} ms, decision saved in ${statusEl.dataset.saveP95} ms (p95)`;
  };

  // decisions are saved behind the screen, in order, retried, never dropped (save-queue.ts)
  const saves = new SaveQueue({
    decide: (s) => reviewApi.decide(s.taskId, s.decision, s.durationMs),
    isFinal: isFinalSaveError,
    message: errorMessage,
    saved: (_, record, roundTripMs) => {
      remember(savedMs, roundTripMs);
      remember(committedMs, record.commit_ms);
      if (record.learn_error) showBanner(`Saved; the photo could not be added as a reference: ${record.learn_error}`);
      savedCount += 1;
      timings();
    },
    // decided elsewhere, taken over by another reviewer, or refused: it stays listed
    refused: (f) => showBanner(`Your ${f.decision.action} of task ${f.taskId} could not be recorded: ${f.error}`),
    changed: () => setStatus(),
    idle: () => refreshQueue(),
  }, localStorage);

  const query = (): QueueQuery => ({
    kind: RESULT_KINDS.find((k) => k === kindSel.value) ?? null,
    store_id: storeSel.value || null,
    reason: ROUTING_REASONS.find((r) => r === reasonSel.value) ?? null,
    created_before: ageSel.value ? new Date(Date.now() - Number(ageSel.value) * 3_600_000).toISOString() : null,
    sort: sortSel.value as QueueQuery["sort"],
  });

  // The reviewer's own leases can be claimed again (after a reload the task they were on comes
  // back), so a claim names what must not come back: the tasks whose decisions are still being
  // saved, and the one on screen.
  const notToClaim = (...held: number[]): number[] => [...new Set([...saves.taskIds(), ...held])];

  const setStatus = () => {
    const unsaved = saves.pending.length;
    const failing = saves.retrying();
    const failed = saves.failed;
    statusEl.textContent = failing
      ? `${unsaved} decision${unsaved === 1 ? "" : "s"} not saved yet — retrying (attempt ${failing.attempts + 1})`
      : unsaved > 0 ? "Saving…" : "All decisions saved";
    statusEl.dataset.state = failing ? "retrying" : unsaved > 0 ? "saving" : "saved";
    statusEl.dataset.failed = String(failed.length);
    if (failed.length > 0) {
      statusEl.append(h("span", { class: "review-failed", title: failed.map((f) => `task ${f.taskId}: ${f.decision.action} — ${f.error}`).join("\n") },
        ` · ${failed.length} not recorded`));
    }
    switchBtn.textContent = reviewer ? `Reviewer: ${reviewer}` : "Reviewer";
  };

  // One claim of the next task at a time; a decision made before it lands waits for it
  // instead of claiming a second task.
  let preloading: Promise<void> | null = null;
  const preload = (): Promise<void> => {
    if (preloading) return preloading;
    if (!current || next) return Promise.resolve();
    const holding = current.id;
    preloading = (async () => {
      try {
        const claimed = await reviewApi.claimNext(query(), notToClaim(holding));
        if (claimed && claimed.id === current?.id) return;
        next = claimed;
      } catch (error) {
        showBanner(errorMessage(error));
      } finally {
        preloading = null;
      }
    })();
    return preloading;
  };

  // when the decision key was pressed, until the next task is painted
  let awaitingNext: number | null = null;
  let loadingNext = false;
  const show = (task: ReviewTask | null) => {
    current = task;
    viewing = null;
    edits = new Map();
    shownAt = performance.now();
    render();
    if (task && awaitingNext !== null) {
      const began = awaitingNext;
      awaitingNext = null;
      requestAnimationFrame(() => { remember(shownMs, performance.now() - began); shownCount += 1; timings(); });
    }
    void preload();
  };

  let categories: string[] = [];
  const renderCompliance = (task: ReviewTask, readOnly: string | null): HTMLElement => {
    const out = task.model_output as { valid: boolean; invalid_reasons: string[]; suggestions: string[];
      category: { predicted: string | null; verdict: string; similarity: number; margin: number } | null;
      rules: { id: string; passed: boolean | null; confidence: number | null; evidence: string }[] };
    const img = h("img", { class: "review-photo", alt: "" });
    void api.getItem(task.item_id).then((d) => { if (d.item.blob_sha256) img.src = blobUrl(d.item.blob_sha256); }).catch(() => {});
    const valid = edits.has("valid") ? edits.get("valid") === "true" : out.valid;
    const predicted = edits.get("category") ?? out.category?.predicted ?? "";
    const select = h("select", { id: "review-category", "aria-label": "Category", disabled: readOnly !== null },
      h("option", { value: "" }, "—"),
      ...categories.map((c) => h("option", { value: c, selected: c === predicted }, c)));
    select.addEventListener("change", () => {
      if (select.value !== (out.category?.predicted ?? "")) edits.set("category", select.value); else edits.delete("category");
      render();
    });
    select.addEventListener("keydown", (event) => { if (event.key === "Escape" || event.key === "Enter") { event.preventDefault(); select.blur(); } });
    return h("div", { class: "review-card", "data-task": task.id },
      h("p", {}, h("strong", {}, "Compliance"), ` · item ${task.item_id} · ${task.store_id} · lowest confidence ${Math.round(task.confidence * 100)} %`),
      h("p", { class: "review-reasons" }, ...task.reasons.map((r) => h("span", { class: `chip reason-${r}` }, ROUTING_REASON_LABELS[r]))),
      readOnly ? h("p", { class: "review-readonly", id: "review-readonly" }, readOnly) : null,
      h("div", { class: "review-compliance" }, img,
        h("div", {},
          h("p", { id: "review-valid", "data-valid": String(valid), class: valid ? "model-ok" : "model-bad" },
            valid ? "Valid" : `Invalid${out.invalid_reasons.length ? `: ${out.invalid_reasons.join(", ")}` : ""}`,
            edits.has("valid") ? " (your correction)" : "", h("span", { class: "small muted" }, "  V toggles")),
          h("label", {}, "Category ", select, h("span", { class: "small muted" }, `  C to choose · gate: ${out.category?.verdict ?? "—"}`)),
          h("table", { class: "review-fields review-rules" }, h("tbody", {}, ...out.rules.map((r) => {
            const key = `rule:${r.id}`;
            const passed = edits.has(key) ? edits.get(key) === "true" : r.passed;
            const toggle = h("button", { class: "rule-toggle", "data-rule-toggle": r.id, disabled: readOnly !== null || r.passed === null,
              title: "Space: mark this rule passed / failed" }, passed === null ? "pending" : passed ? "passed" : "failed");
            toggle.addEventListener("click", () => {
              if (r.passed === null) return;
              if (edits.has(key)) edits.delete(key); else edits.set(key, String(!r.passed));
              render();
              taskEl.querySelector<HTMLButtonElement>(`[data-rule-toggle="${CSS.escape(r.id)}"]`)?.focus();
            });
            const doubtful = r.passed === false || (r.confidence !== null && r.confidence < 0.8) || doubtfulOf(task).includes(r.id);
            return h("tr", { "data-rule": r.id, class: `${doubtful ? "doubtful" : ""}${edits.has(key) ? " edited" : ""}` },
              h("th", {}, r.id),
              h("td", { class: passed === false ? "model-bad" : "" }, toggle, edits.has(key) ? h("span", { class: "small" }, " (your correction)") : null),
              h("td", { class: "num" }, r.confidence === null ? "" : `${Math.round(r.confidence * 100)} %`),
              h("td", { class: "small muted" }, r.evidence));
          }))))),
      edits.size > 0 ? h("p", { class: "small", id: "review-edits" }, "Corrected — A saves the correction") : null);
  };

  const renderTask = (task: ReviewTask, readOnly: string | null): HTMLElement => {
    if (task.kind === "compliance") return renderCompliance(task, readOnly);
    const fields = fieldsOf(task.model_output, doubtfulOf(task));
    const rows = fields.map((f) => {
      const input = h("input", {
        class: "review-input", "data-field": f.name, value: edits.get(f.name) ?? f.value,
        readonly: readOnly !== null, "aria-label": f.name,
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          if (input.value !== f.value) edits.set(f.name, input.value); else edits.delete(f.name);
          input.blur();
          render();
        } else if (event.key === "Escape") {
          event.preventDefault();
          edits.delete(f.name);
          input.value = f.value;
          input.blur();
          render();
        }
      });
      return h("tr", { "data-field": f.name, class: `${f.doubtful ? "doubtful" : ""}${edits.has(f.name) ? " edited" : ""}` },
        h("th", {}, f.name),
        h("td", {}, input),
        h("td", { class: f.confidence < 0.8 ? "low-confidence num" : "num" }, `${Math.round(f.confidence * 100)} %`),
        h("td", { class: "item-error-text small" }, f.failed.join(", ")));
    });
    return h("div", { class: "review-card", "data-task": task.id },
      h("p", {}, h("strong", {}, `${task.kind[0].toUpperCase()}${task.kind.slice(1)}`),
        ` · item ${task.item_id} · ${task.store_id} · lowest confidence ${Math.round(task.confidence * 100)} %`),
      h("p", { class: "review-reasons" }, ...task.reasons.map((r) => h("span", { class: `chip reason-${r}` }, ROUTING_REASON_LABELS[r]))),
      readOnly ? h("p", { class: "review-readonly", id: "review-readonly" }, readOnly) : null,
      h("table", { class: "review-fields" }, h("tbody", {}, ...rows)),
      edits.size > 0 ? h("p", { class: "small", id: "review-edits" }, `${edits.size} field${edits.size === 1 ? "" : "s"} edited — A saves the correction`) : null);
  };

  const render = () => {
    if (!reviewer) {
      const input = h("input", { id: "review-reviewer", type: "text", placeholder: "Your name", maxlength: 100 });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && input.value.trim()) {
          api.signIn(input.value).then((session) => {
            reviewer = session.reviewer ?? "";
            void start();
          }, (error: unknown) => showBanner(errorMessage(error)));
        }
      });
      taskEl.replaceChildren(h("div", { class: "review-start" }, h("label", {}, "Reviewer ", input),
        h("p", { class: "small muted" }, "Decisions are recorded under this name.")));
      input.focus();
      return;
    }
    if (viewing) {
      taskEl.replaceChildren(renderTask(viewing, "Decided — U undoes it, J goes back"));
      return;
    }
    taskEl.replaceChildren(current ? renderTask(current, null)
      : loadingNext ? h("p", { class: "muted", id: "review-loading" }, "Loading the next task…")
      : h("p", { class: "muted", id: "review-empty" }, emptyTaskMessage(queueTotal, queueListed, reviewer)));
  };

  // The queue is windowed: only the rows in view exist, fetched a page at a time.
  let policyNotice = "";
  // what the queue beside the task view shows, so that the two agree
  let queueTotal = 0;
  let queueListed: ReviewTask[] = [];
  const onPage = (page: QueuePage) => {
    queueTotal = Number(page.total);
    if (page.tasks.length > 0 || queueTotal === 0) queueListed = page.tasks;
    if (!current && !viewing) render();
    const oldest = page.oldest_created_at ? Math.round((Date.now() - Date.parse(page.oldest_created_at)) / 60000) : null;
    countEl.textContent = `${page.total} open${oldest !== null ? ` · oldest ${oldest < 60 ? `${oldest} min` : oldest < 2880 ? `${Math.round(oldest / 60)} h` : `${Math.round(oldest / 1440)} d`}` : ""}`;
    const notice = page.policy_errors.map((p) => `Routing policy of ${p.store_id} not applied, the previous one stays: ${p.error ?? ""}`).join(" · ");
    if (notice !== policyNotice) { policyNotice = notice; showBanner(notice || null); }
  };
  const queueList = new PagedList<ReviewTask>(async (offset, limit) => {
    const page = await reviewApi.queue(query(), offset, limit);
    onPage(page);
    return { total: page.total, offset, items: page.tasks };
  }, () => renderQueue(), QUEUE_PAGE, (error) => { countEl.textContent = errorMessage(error); });
  const due = (t: ReviewTask) => {
    if (!t.due_at) return "";
    const minutes = Math.round((Date.parse(t.due_at) - Date.now()) / 60000);
    return minutes < 0 ? ` · overdue ${Math.round(-minutes / 60)} h` : ` · due in ${minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`}`;
  };
  const renderQueue = () => {
    spacer.style.height = `${queueList.total * QUEUE_ROW}px`;
    const range = visibleRange(queueEl.scrollTop, queueEl.clientHeight, QUEUE_ROW, queueList.total);
    const rows: HTMLElement[] = [];
    for (let i = range.start; i < range.end; i++) {
      const t = queueList.get(i);
      const row = t
        ? h("div", { class: `queue-row${t.id === current?.id ? " selected" : ""}`, role: "option", "data-task": t.id, "data-index": i },
          h("span", { class: "row-title" }, `${t.kind} · item ${t.item_id} · ${t.store_id}`),
          h("span", { class: "row-sub small muted" }, `${Math.round(t.confidence * 100)} % · ${t.reasons.map((r) => ROUTING_REASON_LABELS[r]).join(", ")}${due(t)}${t.lease_owner ? ` · ${t.lease_owner}` : ""}`))
        : h("div", { class: "queue-row placeholder muted" }, "…");
      row.style.top = `${i * QUEUE_ROW}px`;
      rows.push(row);
    }
    spacer.replaceChildren(...rows);
  };
  queueEl.addEventListener("scroll", () => renderQueue(), { passive: true });
  let refreshing = false;
  let refreshAgain = false;
  const refreshQueue = () => {
    // one refresh at a time; a burst of saves asks for one more at most
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    void queueList.reset().finally(() => {
      refreshing = false;
      if (refreshAgain) { refreshAgain = false; refreshQueue(); }
    });
  };

  const start = async () => {
    try {
      const stores = await api.listStores();
      categories = [...new Set(stores.stores.flatMap((st) => st.categories.map((c) => c.name)))];
      const chosen = storeSel.value;
      storeSel.replaceChildren(h("option", { value: "" }, "All"),
        ...[...stores.stores.map((st) => [st.id, st.name]), ["default", "No store"]].map(([id, name]) =>
          h("option", { value: id, selected: id === chosen }, name)));
    } catch {
      categories = [];
    }
    setStatus();
    render();
    if (!reviewer) return;
    await releaseHeld();
    try {
      show(await reviewApi.claimNext(query(), notToClaim()));
    } catch (error) {
      showBanner(errorMessage(error));
    }
    void refreshQueue();
  };

  /** Gives the tasks on screen and pre-loaded back to the queue (closing, switching reviewer). */
  const releaseHeld = async () => {
    const held = [current, next].filter((t): t is ReviewTask => t !== null);
    current = null;
    next = null;
    // a task whose decision is still being saved is not given back
    for (const t of held) if (!saves.has(t.id)) await reviewApi.release(t.id).catch(() => false);
  };

  const close = () => {
    root.hidden = true;
    keys.deactivate("review");
    if (reviewer) void releaseHeld();
  };

  // Leases last 10 minutes; while the workbench is open, the tasks on screen stay leased.
  setInterval(() => {
    if (root.hidden || !reviewer) return;
    const ids = [current?.id, next?.id].filter((id): id is number => id !== undefined);
    if (ids.length === 0) return;
    void reviewApi.renew(ids).then((held) => {
      if (next && !held.includes(next.id)) { next = null; void preload(); }
      if (current && !held.includes(current.id)) {
        showBanner(`Task ${current.id} was claimed by another reviewer after your lease ran out; it is theirs now.`);
        show(next);
        next = null;
      }
    }).catch(() => {});
  }, RENEW_MS);
  window.addEventListener("beforeunload", () => { if (reviewer && !root.hidden) void releaseHeld(); });

  const decideCurrent = (decision: DecisionInput) => {
    if (!current || viewing) return;
    const task = current;
    saves.push({ taskId: task.id, reviewer, decision, durationMs: Math.round(performance.now() - shownAt), attempts: 0 });
    history.push(task);
    const upcoming = next;
    next = null;
    awaitingNext = performance.now();
    const inFlightClaim = preloading;
    loadingNext = upcoming === null;
    show(upcoming);
    if (!upcoming) {
      void (async () => {
        try {
          // the pre-load still on its way, or else a claim now (the decided task stays leased
          // to this reviewer until its save lands, so it is not offered again)
          if (inFlightClaim) await inFlightClaim;
          if (current) return;
          const claimed = next ?? await reviewApi.claimNext(query(), notToClaim());
          next = null;
          loadingNext = false;
          if (!current) show(claimed);
        } catch (error) {
          loadingNext = false;
          render();
          showBanner(errorMessage(error));
        }
      })();
    }
  };

  const approve = () => {
    if (!current) return;
    if (edits.size === 0) { decideCurrent({ action: "approve" }); return; }
    if (current.kind === "compliance") {
      const valid = edits.has("valid") ? edits.get("valid") === "true" : null;
      const rules = new Map([...edits].filter(([k]) => k.startsWith("rule:")).map(([k, v]) => [k.slice(5), v === "true"]));
      decideCurrent({ action: "correct", after: applyComplianceEdit(current.model_output, valid, edits.get("category") ?? null, rules) });
      return;
    }
    let after: unknown = current.model_output;
    for (const [name, text] of edits) after = applyEdit(after, name, text);
    decideCurrent({ action: "correct", after });
  };

  const reject = () => {
    if (!current || viewing) return;
    const select = h("select", { id: "review-reject-reason", "aria-label": "Reason" },
      ...REJECT_REASONS.map((r) => h("option", { value: r }, REJECT_REASON_LABELS[r])));
    const picker = h("div", { class: "review-reject" }, h("label", {}, "Reject because ", select), h("span", { class: "small muted" }, " Enter to confirm, Esc to cancel"));
    select.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        picker.remove();
        const reason = REJECT_REASONS.find((r) => r === select.value);
        if (reason) decideCurrent({ action: "reject", reason_code: reason });
      } else if (event.key === "Escape") { event.preventDefault(); picker.remove(); }
    });
    taskEl.prepend(picker);
    select.focus();
  };

  const undo = async () => {
    const last = history.pop();
    if (!last) return;
    viewing = null;
    // the task is ours again; what was on screen waits as the next one
    const bringBack = async () => {
      if (current) {
        if (next) await reviewApi.release(next.id).catch(() => false);
        next = current;
      }
      current = last;
      edits = new Map();
      shownAt = performance.now();
      render();
    };
    // not saved yet: taking it back is dropping it (the task is still this reviewer's)
    if (saves.dropUnsent(last.id)) {
      await bringBack();
      return;
    }
    await saves.settled();
    try {
      await reviewApi.undo(last.id);
      await bringBack();
      refreshQueue();
    } catch (error) {
      history.push(last);
      showBanner(`Could not undo: ${errorMessage(error)}`);
    }
  };

  const skip = async () => {
    if (viewing) { viewing = null; render(); return; }
    if (!current) return;
    const skipped = current;
    show(next);
    next = null;
    await reviewApi.release(skipped.id).catch(() => false);
    if (!current) show(await reviewApi.claimNext(query(), notToClaim(skipped.id)));
    else void preload();
  };

  const focusField = (direction: 1 | -1) => {
    const targets = ".review-input, .rule-toggle:not([disabled])";
    const doubtful = [...taskEl.querySelectorAll<HTMLElement>(`tr.doubtful :is(${targets})`)];
    const all = doubtful.length > 0 ? doubtful : [...taskEl.querySelectorAll<HTMLElement>(targets)];
    if (all.length === 0) return;
    const at = all.indexOf(document.activeElement as HTMLElement);
    const to = at < 0 ? (direction === 1 ? 0 : all.length - 1) : (at + direction + all.length) % all.length;
    all[to].focus();
    if (all[to] instanceof HTMLInputElement) (all[to] as HTMLInputElement).select();
  };

  const showMetrics = async () => {
    metricsEl.hidden = !metricsEl.hidden;
    if (metricsEl.hidden) return;
    await fillMetrics(metricsEl, { shownMs, savedMs }, () => saves.settled());
  };

  keys.register("review", (event) => {
    const target = event.target as HTMLElement | null;
    const inField = !!target && (target.tagName === "INPUT" || target.tagName === "SELECT");
    if (event.key === "Tab" && current && reviewer) {
      focusField(event.shiftKey ? -1 : 1);
      return true;
    }
    if (inField) return false;
    const key = event.key;
    const handled = (() => {
      switch (key) {
        case "a": approve(); return true;
        case "r": reject(); return true;
        case "e": focusField(1); return true;
        case "u": void undo(); return true;
        case "j": case "ArrowDown": void skip(); return true;
        case "k": case "ArrowUp": {
          const last = history[history.length - 1];
          if (last) { viewing = last; render(); }
          return true;
        }
        case "m": void showMetrics(); return true;
        case "x": if (!metricsEl.hidden) metricsEl.querySelector<HTMLButtonElement>("#review-export-jsonl")?.click(); return true;
        case "X": if (!metricsEl.hidden) metricsEl.querySelector<HTMLButtonElement>("#review-export-csv")?.click(); return true;
        case "i": if (!metricsEl.hidden) metricsEl.querySelector<HTMLButtonElement>("#review-verify")?.click(); return true;
        case "v":
          if (current?.kind === "compliance" && !viewing) {
            const model = (current.model_output as { valid: boolean }).valid;
            const now = edits.has("valid") ? edits.get("valid") === "true" : model;
            if (!now === model) edits.delete("valid"); else edits.set("valid", String(!now));
            render();
          }
          return true;
        case "c": taskEl.querySelector<HTMLSelectElement>("#review-category")?.focus(); return true;
        case "?": help.hidden = !help.hidden; return true;
        case "PageDown": queueEl.scrollTop += queueEl.clientHeight; return true;
        case "PageUp": queueEl.scrollTop -= queueEl.clientHeight; return true;
        case "Escape":
          if (!help.hidden) help.hidden = true;
          else if (!metricsEl.hidden) metricsEl.hidden = true;
          else close();
          return true;
        default: return false;
      }
    })();
    return handled;
  });

  for (const sel of [kindSel, reasonSel, sortSel, storeSel, ageSel]) sel.addEventListener("change", () => { queueEl.scrollTop = 0; void start(); });
  help.replaceChildren(h("strong", {}, "Keyboard shortcuts"),
    h("table", {}, h("tbody", {}, ...SHORTCUTS.map(([k, what]) => h("tr", {}, h("th", {}, k), h("td", {}, what))))));
  byId("review-close").addEventListener("click", close);
  switchBtn.addEventListener("click", () => {
    void (async () => {
      const unsaved = saves.pending.length;
      if (unsaved > 0) {
        // they are saved as the signed-in reviewer: switch once they have landed
        showBanner(`${unsaved} decision${unsaved === 1 ? " is" : "s are"} still being saved for ${reviewer}; switch reviewers once ${unsaved === 1 ? "it has" : "they have"} landed.`);
        return;
      }
      await releaseHeld();
      try {
        reviewer = (await api.signOut()).reviewer ?? "";
      } catch (error) {
        showBanner(errorMessage(error));
        return;
      }
      history.length = 0;
      setStatus();
      render();
    })();
  });
  // the data directory keys the unsaved decisions; the station knows who is signed in
  const ready = (async () => {
    const [info, session] = await Promise.all([api.appInfo(), api.session()]);
    reviewer = session.reviewer ?? "";
    saves.open(info.data_dir);
  })().catch((error: unknown) => showBanner(`Could not read the session: ${errorMessage(error)}`));
  // routing policies are reloaded as they are saved; a rejected edit is said at once
  let policyBanner = false;
  void events.onPolicyChanged((e) => {
    if (e.error) {
      policyBanner = true;
      showBanner(`Routing policy of ${e.store_id} not applied, the previous one stays: ${e.error}`);
    } else if (policyBanner) {
      policyBanner = false;
      showBanner(null);
    }
  });

  return {
    open: () => {
      root.hidden = false;
      keys.activate("review");
      void ready.then(() => start());
    },
  };
}
