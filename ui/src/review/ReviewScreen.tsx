// The review screen: the filters and the save status on top, the queue (windowed: only the
// rows in view exist, fetched a page at a time) beside the task view, the metrics panel (M) and
// the shortcuts (?). Its keys are the workbench's moves (workbench.ts).
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { ROUTING_REASONS, ROUTING_REASON_LABELS, RESULT_KINDS, RESULT_KIND_LABELS } from "../bindings/constants";
import type { QueueQuery } from "../bindings/QueueQuery";
import type { ReviewTask } from "../bindings/ReviewTask";
import { keys } from "../keys";
import { closeScreen, openScreen, route } from "../app/router";
import { visibleRange } from "../virtual-list";
import { ReviewerChrome } from "../login/SessionChrome";
import { addSignOutGuard } from "../login/account";
import { SHORTCUTS } from "./fields";
import { Metrics, metricsActions } from "./Metrics";
import { TaskView } from "./TaskView";
import { Workbench, type Filters } from "./workbench";

/** Height of a queue row (px). */
export const QUEUE_ROW = 44;

export const bench = new Workbench(localStorage);
const queueView = signal({ top: 0, height: 0 });
const queueEl: { current: HTMLDivElement | null } = { current: null };
const taskEl: { current: HTMLDivElement | null } = { current: null };

export function openReview(): void {
  openScreen("review");
  bench.show();
}

function closeReview(): void {
  closeScreen("review");
  bench.close();
}

/** Tab: the next (or previous) doubtful field or rule, or any when none is doubtful. */
function focusField(direction: 1 | -1): void {
  const root = taskEl.current;
  if (!root) return;
  const targets = ".review-input, .rule-toggle:not([disabled])";
  const doubtful = [...root.querySelectorAll<HTMLElement>(`tr.doubtful :is(${targets})`)];
  const all = doubtful.length > 0 ? doubtful : [...root.querySelectorAll<HTMLElement>(targets)];
  if (all.length === 0) return;
  const at = all.indexOf(document.activeElement as HTMLElement);
  const to = at < 0 ? (direction === 1 ? 0 : all.length - 1) : (at + direction + all.length) % all.length;
  all[to].focus();
  if (all[to] instanceof HTMLInputElement) (all[to] as HTMLInputElement).select();
}

export function setupReview(): void {
  bench.setup();
  // an account signing out gives its tasks back first (and waits for its saves)
  addSignOutGuard(() => bench.leave());
  keys.register("review", (event) => {
    const target = event.target as HTMLElement | null;
    const inField = !!target && (target.tagName === "INPUT" || target.tagName === "SELECT");
    if (event.key === "Tab" && bench.current.value && bench.reviewer.value) {
      focusField(event.shiftKey ? -1 : 1);
      return true;
    }
    if (inField) return false;
    const metrics = bench.metricsOpen.value ? metricsActions.current : null;
    switch (event.key) {
      case "a": bench.approve(); return true;
      case "r": bench.startReject(); return true;
      case "e": focusField(1); return true;
      case "u": void bench.undo(); return true;
      case "j": case "ArrowDown": void bench.skip(); return true;
      case "k": case "ArrowUp": bench.back(); return true;
      case "m": bench.metricsOpen.value = !bench.metricsOpen.value; return true;
      case "x": metrics?.export("jsonl"); return true;
      case "X": metrics?.export("csv"); return true;
      case "i": metrics?.verify(); return true;
      case "v": bench.toggleValid(); return true;
      case "c": taskEl.current?.querySelector<HTMLSelectElement>("#review-category")?.focus(); return true;
      case "?": bench.helpOpen.value = !bench.helpOpen.value; return true;
      case "PageDown": if (queueEl.current) queueEl.current.scrollTop += queueEl.current.clientHeight; return true;
      case "PageUp": if (queueEl.current) queueEl.current.scrollTop -= queueEl.current.clientHeight; return true;
      case "Escape":
        if (bench.helpOpen.value) bench.helpOpen.value = false;
        else if (bench.metricsOpen.value) bench.metricsOpen.value = false;
        else closeReview();
        return true;
      default: return false;
    }
  });
}

function age(oldest: string | null): string {
  if (!oldest) return "";
  const minutes = Math.round((Date.now() - Date.parse(oldest)) / 60000);
  return ` · oldest ${minutes < 60 ? `${minutes} min` : minutes < 2880 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} d`}`;
}

function due(t: ReviewTask): string {
  if (!t.due_at) return "";
  const minutes = Math.round((Date.parse(t.due_at) - Date.now()) / 60000);
  return minutes < 0 ? ` · overdue ${Math.round(-minutes / 60)} h` : ` · due in ${minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`}`;
}

function Queue() {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    queueEl.current = node;
    const observer = new ResizeObserver(() => { queueView.value = { top: node.scrollTop, height: node.clientHeight }; });
    observer.observe(node);
    return () => { observer.disconnect(); queueEl.current = null; };
  }, []);
  void bench.queueVersion.value;
  const list = bench.queue;
  const currentId = bench.current.value?.id;
  const range = visibleRange(queueView.value.top, queueView.value.height, QUEUE_ROW, list.total);
  const rows = [];
  for (let i = range.start; i < range.end; i++) {
    const t = list.get(i);
    const top = `${i * QUEUE_ROW}px`;
    rows.push(t
      ? (
        <div key={i} class={`queue-row${t.id === currentId ? " selected" : ""}`} role="option" data-task={t.id} data-index={i} style={{ top }}>
          <span class="row-title">{`${t.kind} · item ${t.item_id} · ${t.store_id}`}</span>
          <span class="row-sub small muted">
            {`${Math.round(t.confidence * 100)} % · ${t.reasons.map((r) => ROUTING_REASON_LABELS[r]).join(", ")}${due(t)}${t.lease_owner ? ` · ${t.lease_owner}` : ""}`}
          </span>
        </div>
      )
      : <div key={i} class="queue-row placeholder muted" style={{ top }}>…</div>);
  }
  return (
    <div id="review-queue" class="review-queue" role="listbox" aria-label="Queue" ref={el}
      onScroll={(e) => { const node = e.currentTarget as HTMLElement; queueView.value = { top: node.scrollTop, height: node.clientHeight }; }}>
      <div id="review-queue-spacer" class="list-spacer" style={{ height: `${list.total * QUEUE_ROW}px` }}>{rows}</div>
    </div>
  );
}

function SaveStatus() {
  void bench.savesVersion.value;
  const t = bench.timings.value;
  const { saves } = bench;
  const unsaved = saves.pending.length;
  const failing = saves.retrying();
  const failed = saves.failed;
  return (
    <span id="review-status" class="small muted"
      data-state={failing ? "retrying" : unsaved > 0 ? "saving" : "saved"} data-failed={String(failed.length)}
      data-next-last={t.nextLast.toFixed(1)} data-next-count={String(t.nextCount)} data-next-p95={t.nextP95.toFixed(1)}
      data-save-last={t.saveLast.toFixed(1)} data-save-count={String(t.saveCount)} data-save-p95={t.saveP95.toFixed(1)}
      data-commit-last={t.commitLast.toFixed(2)} data-commit-p95={t.commitP95.toFixed(2)}
      title={`This session: next task shown in ${t.nextP95.toFixed(1)} ms, decision saved in ${t.saveP95.toFixed(1)} ms (p95)`}>
      {failing
        ? `${unsaved} decision${unsaved === 1 ? "" : "s"} not saved yet — retrying (attempt ${failing.attempts + 1})`
        : unsaved > 0 ? "Saving…" : "All decisions saved"}
      {failed.length > 0 && (
        <span class="review-failed" title={failed.map((f) => `task ${f.taskId}: ${f.decision.action} — ${f.error}`).join("\n")}>
          {` · ${failed.length} not recorded`}
        </span>
      )}
    </span>
  );
}

function FilterSelect<K extends keyof Filters>({ id, label, field, options }: { id: string; label: string; field: K; options: [string, string][] }) {
  return (
    <label>{label}{" "}
      <select id={id} value={bench.filters.value[field]}
        onChange={(e) => {
          if (queueEl.current) queueEl.current.scrollTop = 0;
          bench.setFilters({ [field]: (e.target as HTMLSelectElement).value } as Partial<Filters>);
        }}>
        {options.map(([value, text]) => <option value={value}>{text}</option>)}
      </select>
    </label>
  );
}

const SORTS: [QueueQuery["sort"], string][] = [["lowest_confidence", "Lowest confidence"], ["oldest", "Oldest"], ["due", "Due time"]];
const AGES: [string, string][] = [["", "Any"], ["1", "Over 1 h"], ["4", "Over 4 h"], ["24", "Over 1 day"], ["168", "Over 1 week"]];

export function ReviewScreen() {
  const reviewer = bench.reviewer.value;
  return (
    <section id="review" class="review" hidden={route.value.screen !== "review"} aria-label="Review workbench">
      <div class="review-head">
        <strong>Review</strong>
        <span id="review-count" class="muted">
          {bench.queueError.value ?? `${bench.queueTotal.value} open${age(bench.queueOldest.value)}`}
        </span>
        <FilterSelect id="review-kind" label="Kind" field="kind" options={[["", "All"], ...RESULT_KINDS.map((k): [string, string] => [k, RESULT_KIND_LABELS[k]])]} />
        <FilterSelect id="review-reason" label="Reason" field="reason" options={[["", "Any"], ...ROUTING_REASONS.map((r): [string, string] => [r, ROUTING_REASON_LABELS[r]])]} />
        <FilterSelect id="review-store" label="Store" field="store" options={[["", "All"], ...bench.storeOptions.value]} />
        <FilterSelect id="review-age" label="Age" field="age" options={AGES} />
        <FilterSelect id="review-sort" label="Order" field="sort" options={SORTS} />
        <span class="spacer" />
        <SaveStatus />
        <ReviewerChrome reviewer={reviewer} switchReviewer={() => void bench.signOut()} />
        <span class="small muted">? shortcuts</span>
        <button id="review-close" title="Close (Esc)" onClick={closeReview}>×</button>
      </div>
      <div class="review-body">
        <Queue />
        <TaskView bench={bench} taskRef={taskEl} />
        {bench.metricsOpen.value && <Metrics session={bench} settled={() => bench.saves.settled()} />}
      </div>
      {bench.helpOpen.value && (
        <div id="review-help" class="review-help">
          <strong>Keyboard shortcuts</strong>
          <table><tbody>{SHORTCUTS.map(([k, what]) => <tr><th>{k}</th><td>{what}</td></tr>)}</tbody></table>
        </div>
      )}
    </section>
  );
}
