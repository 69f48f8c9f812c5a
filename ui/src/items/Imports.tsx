// Imports: the top bar's progress bar with Cancel, and the batch list of per-file outcomes
// (bounded: a 10,000-photo card must not grow the DOM without end).
import { signal } from "@preact/signals";
import { api, errorMessage, events } from "../api";
import type { ImportProgress } from "../bindings/ImportProgress";
import { showBanner } from "../app/state";
import { diskProblem } from "../disk/disk";

const BATCH_ROWS_SHOWN = 300;

interface Outcome {
  key: number;
  status: string;
  text: string;
  name: string;
  path: string;
}

const activeJob = signal<number | null>(null);
const progress = signal<{ done: number; total: number } | null>(null);
const batch = signal<{ title: string; rows: Outcome[]; open: boolean }>({ title: "Import", rows: [], open: false });
const dropHover = signal(false);
let outcomes = 0;

export function outcomeOf(event: ImportProgress): Omit<Outcome, "key"> {
  const { outcome } = event;
  const result = outcome.result;
  let status: string;
  let text: string;
  switch (result.kind) {
    case "imported": status = result.verdict; text = result.verdict === "pass" ? "Pass" : "Fail"; break;
    case "document": status = "document"; text = `PDF, ${result.page_count} page${result.page_count === 1 ? "" : "s"}`; break;
    case "duplicate": status = "duplicate"; text = "Already imported"; break;
    case "failed": status = "failed"; text = result.message; break;
  }
  return { status, text, name: outcome.file_name, path: outcome.path };
}

/** Follows the station's import events; `changed` refreshes the list (throttled by the caller). */
export function setupImports(changed: () => void, finished: () => void): void {
  void events.onImportStarted((e) => {
    activeJob.value = e.job_id;
    progress.value = { done: 0, total: e.total };
    batch.value = { title: `Importing ${e.total} file${e.total === 1 ? "" : "s"}`, rows: [], open: true };
  });
  void events.onImportProgress((e) => {
    progress.value = { done: e.done, total: e.total };
    if (e.outcome.result.kind === "failed") diskProblem(e.outcome.result.code, e.outcome.result.message);
    const rows = [{ key: ++outcomes, ...outcomeOf(e) }, ...batch.value.rows].slice(0, BATCH_ROWS_SHOWN);
    batch.value = { ...batch.value, rows };
    changed();
  });
  void events.onImportFinished((summary) => {
    if (activeJob.value === summary.job_id) activeJob.value = null;
    progress.value = null;
    const parts = [`${summary.imported} imported`];
    if (summary.duplicates) parts.push(`${summary.duplicates} already there`);
    if (summary.failed) parts.push(`${summary.failed} failed`);
    batch.value = { ...batch.value, title: `${summary.cancelled ? "Cancelled" : "Done"}: ${parts.join(", ")}` };
    finished();
  });
  void events.onDropHover((hovering) => { dropHover.value = hovering; });
}

export async function openFiles(): Promise<void> {
  try {
    await api.pickAndImport();
  } catch (error) {
    showBanner(`Could not open the file dialog: ${errorMessage(error)}`);
  }
}

export function ImportProgressBar() {
  const p = progress.value;
  return (
    <div id="import-panel" class="import-panel" hidden={p === null}>
      <progress id="import-progress" max={Math.max(1, p?.total ?? 1)} value={p?.done ?? 0} />
      <span id="import-label" class="muted">{p ? `${p.done} / ${p.total}` : ""}</span>
      <button id="import-cancel" onClick={() => { if (activeJob.value !== null) void api.cancelImport(activeJob.value); }}>Cancel</button>
    </div>
  );
}

export function ImportBatch() {
  const b = batch.value;
  return (
    <aside id="batch" class="batch" hidden={!b.open}>
      <div class="batch-head">
        <strong id="batch-title">{b.title}</strong>
        <button id="batch-close" title="Hide" onClick={() => { batch.value = { ...batch.value, open: false }; }}>×</button>
      </div>
      <ol id="batch-list" class="batch-list">
        {b.rows.map((r) => (
          <li key={r.key} class={`batch-row batch-${r.status}`} data-status={r.status} title={r.path}>
            <span class="batch-name">{r.name}</span>
            <span class="batch-result">{r.text}</span>
          </li>
        ))}
      </ol>
    </aside>
  );
}

export function DropOverlay() {
  return <div id="drop-overlay" class="drop-overlay" hidden={!dropHover.value}>Drop photos, PDFs or folders to import</div>;
}
