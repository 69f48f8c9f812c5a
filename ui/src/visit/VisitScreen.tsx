// The auditor's visit screen, a panel beside the items: start a visit for a store, watch photos
// land with their verdicts and retake guidance, follow the checklist of required shots, export
// the report. Keys it does not use go to the items screen beneath.
import { effect, signal, untracked } from "@preact/signals";
import { useRef, useState } from "preact/hooks";
import { api, errorMessage, visitApi, visitEvents } from "../api";
import type { FolderState } from "../bindings/FolderState";
import type { ReportFormat } from "../bindings/ReportFormat";
import type { VisitPhoto } from "../bindings/VisitPhoto";
import type { VisitState } from "../bindings/VisitState";
import { keys } from "../keys";
import { closeScreen, openScreen, route, toggleScreen } from "../app/router";
import { showBanner, stores } from "../app/state";
import { status as syncStatus } from "../sync/sync";
import { routerMode, signedIn } from "../login/account";

/** Photos shown per page in the panel (the rest are a "Show more" away). */
export const PHOTOS_PAGE = 50;

const SHOT_LABELS = { done: "Done", retake: "Retake", missing: "Missing" } as const;
const PHOTO_LABELS = { accepted: "OK", extra: "Extra", retake: "Retake", unreadable: "Unreadable" } as const;

/** The open visit (null: none), how many photos are shown, and its last state. */
const visitId = signal<number | null>(null);
const shown = signal(PHOTOS_PAGE);
const state = signal<{ visit: VisitState } | { error: string } | null>(null);
/** The folder as the watcher last reported it (newer than the state's, between refreshes). */
const folder = signal<FolderState | null>(null);
/** The top bar's word for the visit: its store, "complete", or "none". */
export const visitBadge = signal("…");

let busy = false;
let again = false;

async function refresh(): Promise<void> {
  // one request at a time; photos landing meanwhile trigger one more
  if (busy) { again = true; return; }
  busy = true;
  try {
    const id = visitId.value;
    if (id === null) { state.value = null; return; }
    const visit = await visitApi.state(id, 0, shown.value);
    if (visitId.value !== id) return;
    state.value = { visit };
    folder.value = null;
    const open = visit.checklist.filter((s) => s.state !== "done").length;
    visitBadge.value = open === 0 && visit.checklist.length > 0 ? "complete" : visit.visit.store_name;
  } catch (error) {
    state.value = { error: errorMessage(error) };
  } finally {
    busy = false;
    if (again) { again = false; void refresh(); }
  }
}

/**
 * Whether the sync's outbox moved on in a way the open visit may show: rows finished (`done`
 * grew: a cloud check's verdicts are applied as its row is done) while the visit waits for the
 * cloud. The station sends no event when verdicts come back; the sync status, polled anyway
 * for the connection badge, tells.
 */
export function cloudResultsMayHaveArrived(doneBefore: number | null, doneNow: number | null, pendingCloud: number): boolean {
  return pendingCloud > 0 && doneBefore !== null && doneNow !== null && doneNow > doneBefore;
}

/** Listens for the visit's events and opens the visit that was going on when the app closed. */
export async function setupVisits(onPhoto: () => void): Promise<void> {
  // a photo's cloud verdicts replace its "pending" while the panel is up
  let doneBefore: number | null = null;
  effect(() => {
    const doneNow = syncStatus.value?.counts.done ?? null;
    untracked(() => {
      const s = state.value;
      const pending = s !== null && "visit" in s ? s.visit.pending_cloud : 0;
      if (cloudResultsMayHaveArrived(doneBefore, doneNow, pending)) void refresh();
      doneBefore = doneNow;
    });
  });
  keys.register("visit", (event) => {
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === "SELECT" || target.tagName === "INPUT")) return false;
    if (event.key === "Escape" || (event.key === "v" && !event.ctrlKey && !event.metaKey && !event.altKey)) {
      closeScreen("visit");
      return true;
    }
    return false;
  }, { passThrough: true });
  void visitEvents.onPhoto((e) => {
    if (e.visit_id !== visitId.value) return;
    void refresh();
    onPhoto();
  });
  void visitEvents.onFolder((e) => {
    if (e.visit_id === visitId.value) folder.value = e.folder;
  });
  void visitEvents.onStoresChanged((info) => {
    stores.value = info;
    showBanner(info.error ? `Stores config not applied, the previous one stays: ${info.error}` : null);
    void refresh();
  });
  try {
    const visit = await visitApi.current();
    if (visit) {
      visitId.value = visit.id;
      visitBadge.value = visit.store_name;
      openScreen("visit");
    } else {
      visitBadge.value = "none";
    }
    await refresh();
  } catch (error) {
    showBanner(errorMessage(error));
  }
}

export function toggleVisit(): void {
  toggleScreen("visit");
  if (route.value.screen === "visit") void refresh();
}

export function FolderLine({ folder }: { folder: FolderState }) {
  const text = folder.status === "watching" ? `Watching ${folder.path ?? ""}`
    : folder.status === "missing" ? (folder.message ?? `Folder missing: ${folder.path ?? ""}`)
    : folder.status === "failed" ? (folder.message ?? "The folder cannot be watched")
    : "No import folder: add photos with the button or by dropping them here";
  return <p class={`visit-folder folder-${folder.status}`} data-folder={folder.status}>{text}</p>;
}

export function PhotoRow({ photo }: { photo: VisitPhoto }) {
  const facts = [photo.category ? `${photo.category}${photo.shot ? ` → ${photo.shot}` : ""}` : null,
    photo.duplicate ? "already in this visit" : null,
    photo.pending_rules > 0 ? `${photo.pending_rules} check${photo.pending_rules === 1 ? "" : "s"} pending (cloud)` : null,
    ...photo.cloud_rules.filter((r) => r.state !== "pending").map((r) => `cloud: ${r.rule} — ${r.state}${r.reason ? ` (${r.reason})` : ""}`),
    `${Math.round(photo.latency_ms)} ms`].filter((f): f is string => f !== null);
  const advice = photo.state === "retake" || photo.state === "unreadable" ? photo.guidance : [];
  return (
    <li class={`visit-photo photo-${photo.state}`} data-state={photo.state} data-file={photo.file_name} title={photo.source_path}>
      <span class={`chip photo-chip-${photo.state}`}>{PHOTO_LABELS[photo.state]}</span>
      <span class="visit-photo-text">
        <span class="row-title">{photo.file_name}</span>
        <span class="row-sub">{facts.join(" · ")}</span>
        {advice.map((g) => <span class="guidance">{g}</span>)}
        {photo.error && photo.state !== "unreadable" && <span class="row-sub item-error-text">{photo.error}</span>}
      </span>
    </li>
  );
}

export function VisitReport({ state, folder, onMore }: { state: VisitState; folder?: FolderState | null; onMore?: () => void }) {
  const { visit } = state;
  const started = new Date(visit.started_at);
  const done = state.checklist.filter((s) => s.state === "done").length;
  return (
    <div class="visit-body">
      <p id="visit-title"><strong>{visit.store_name}</strong>{` · ${visit.auditor} · since ${isNaN(started.getTime()) ? visit.started_at : started.toLocaleTimeString()}`}</p>
      <FolderLine folder={folder ?? state.folder} />
      {state.config_error && <p class="item-error-text small" id="visit-config-error">{`stores.toml not applied (previous config in use): ${state.config_error}`}</p>}
      {state.pending_cloud > 0 && (
        <p class="small pending-cloud" id="visit-pending">
          {`${state.pending_cloud} rule check${state.pending_cloud === 1 ? "" : "s"} waiting for the network (stored offline, sent when the sync client is connected)`}
        </p>
      )}
      <h3>{`Checklist: ${done} of ${state.checklist.length} done`}</h3>
      {state.checklist.length === 0
        ? <p class="muted small">This store's config lists no required shots ([[store.shot]] in stores.toml).</p>
        : (
          <table class="checklist"><tbody>
            {state.checklist.map((shot) => (
              <tr key={shot.name} data-shot={shot.name} data-state={shot.state}>
                <td><span class={`chip shot-${shot.state}`}>{SHOT_LABELS[shot.state]}</span></td>
                <td>{shot.name}<span class="muted small">{` ${shot.category}`}</span></td>
                <td class="num">{`${shot.accepted} / ${shot.required}`}</td>
              </tr>
            ))}
          </tbody></table>
        )}
      <h3>{`Photos (${state.photos_total})`}</h3>
      <ol class="visit-photos" id="visit-photos">
        {state.photos.map((p) => <PhotoRow key={`${p.item_id}:${p.added_at}:${p.file_name}`} photo={p} />)}
      </ol>
      {state.photos_total > state.photos.length && (
        <button id="visit-more" onClick={onMore}>{`Show more (${state.photos_total - state.photos.length} older)`}</button>
      )}
    </div>
  );
}

/** Export, add photos, end: they stay put while photos land (a press is never lost to a refresh). */
function VisitActions({ visit }: { visit: number }) {
  const [status, setStatus] = useState<string>("");
  const [job, setJob] = useState<number | null>(null);
  const exportReport = async (format: ReportFormat) => {
    const jobId = await api.newJob();
    setJob(jobId);
    setStatus("Writing the report… ");
    const unlisten = await visitEvents.onReportProgress((e) => {
      if (e.job_id === jobId) setStatus(`Writing the report: ${e.done} / ${e.total} photos `);
    });
    try {
      const written = await visitApi.exportReport(visit, format, jobId);
      setStatus(written ? `Saved ${written.path}` : "");
    } catch (error) {
      setStatus(errorMessage(error));
    } finally {
      setJob(null);
      unlisten();
    }
  };
  const end = async () => {
    try {
      await visitApi.end(visit);
      visitId.value = null;
      visitBadge.value = "none";
      void refresh();
    } catch (error) {
      showBanner(errorMessage(error));
    }
  };
  return (
    <div class="visit-actions">
      <button id="visit-add" onClick={() => void visitApi.pickPhotos(visit).catch((e: unknown) => showBanner(errorMessage(e)))}>Add photos…</button>
      <button id="visit-export-pdf" onClick={() => void exportReport("pdf")}>Export PDF</button>
      <button id="visit-export-csv" onClick={() => void exportReport("csv")}>Export CSV</button>
      <button id="visit-end" onClick={() => void end()}>End visit</button>
      <span class="muted small" id="visit-action-status">
        {status}
        {job !== null && <button id="visit-export-cancel" onClick={() => void api.cancelImport(job)}>Cancel</button>}
      </span>
    </div>
  );
}

function VisitStart() {
  const info = stores.value;
  const storeRef = useRef<HTMLSelectElement>(null);
  const auditorRef = useRef<HTMLInputElement>(null);
  const chooseRef = useRef<HTMLInputElement>(null);
  const [error, setError] = useState("");
  const folderPath = info?.import_folder;
  const start = async () => {
    setError("");
    // a connected station runs visits under the signed-in account (the station ignores a name)
    const account = routerMode.value ? signedIn.value?.name ?? "" : null;
    const auditor = account ?? auditorRef.current?.value ?? "";
    try {
      if (account === null) localStorage.setItem("auditor", auditor.trim());
      const visit = await visitApi.start(storeRef.current?.value ?? "", auditor, chooseRef.current?.checked ?? false);
      if (visit) {
        visitId.value = visit.id;
        shown.value = PHOTOS_PAGE;
        await refresh();
      }
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <div class="visit-start">
      {(info?.stores.length ?? 0) === 0 && <p class="model-bad">{`No stores configured: add them to ${info?.config_path ?? "stores.toml"}`}</p>}
      <label>Store <select id="visit-store" aria-label="Store" ref={storeRef}>
        {(info?.stores ?? []).map((s) => <option value={s.id} selected={s.id === info?.active}>{s.name}</option>)}
      </select></label>
      {routerMode.value
        ? <p id="visit-auditor-account">Auditor: <strong>{signedIn.value?.name ?? "nobody signed in"}</strong></p>
        : <label>Auditor <input id="visit-auditor" type="text" placeholder="Your name" maxLength={100} ref={auditorRef}
          defaultValue={localStorage.getItem("auditor") ?? ""} /></label>}
      <p class="small muted">{folderPath ? `Photos from ${folderPath}` : "No import folder in stores.toml"}</p>
      <label class="small"><input id="visit-choose-folder" type="checkbox" ref={chooseRef} defaultChecked={!folderPath} /> Choose the camera/phone folder</label>
      <button class="primary" id="visit-start" onClick={() => void start()}>Start visit</button>
      <p class="item-error-text small" id="visit-start-error">{error}</p>
    </div>
  );
}

export function VisitScreen() {
  const id = visitId.value;
  const s = state.value;
  return (
    <aside id="visit-panel" class="visit-panel" hidden={route.value.screen !== "visit"} aria-label="Store visit">
      <div class="batch-head"><strong>Store visit</strong><button id="visit-close" title="Hide (Esc)" onClick={() => closeScreen("visit")}>×</button></div>
      <div id="visit-body" class="engine-body">
        {id === null ? <VisitStart />
          : s !== null && "error" in s ? <p class="model-bad">{s.error}</p>
          : (
            <>
              <div>{s !== null && <VisitReport state={s.visit} folder={folder.value} onMore={() => { shown.value += PHOTOS_PAGE; void refresh(); }} />}</div>
              <VisitActions key={id} visit={id} />
            </>
          )}
      </div>
    </aside>
  );
}
