// The auditor's visit panel: start a visit for a store, watch photos land with their verdicts
// and retake guidance, follow the checklist of required shots, export the report.
import { api, errorMessage, visitApi, visitEvents } from "./api";
import type { FolderState } from "./bindings/FolderState";
import type { StoresInfo } from "./bindings/StoresInfo";
import type { VisitPhoto } from "./bindings/VisitPhoto";
import type { VisitState } from "./bindings/VisitState";
import { byId, h } from "./dom";

/** Photos shown per page in the panel (the rest are a "Show more" away). */
export const PHOTOS_PAGE = 50;

const SHOT_LABELS = { done: "Done", retake: "Retake", missing: "Missing" } as const;
const PHOTO_LABELS = { accepted: "OK", extra: "Extra", retake: "Retake", unreadable: "Unreadable" } as const;

export function folderLine(folder: FolderState): HTMLElement {
  const text = folder.status === "watching" ? `Watching ${folder.path ?? ""}`
    : folder.status === "missing" ? (folder.message ?? `Folder missing: ${folder.path ?? ""}`)
    : folder.status === "failed" ? (folder.message ?? "The folder cannot be watched")
    : "No import folder: add photos with the button or by dropping them here";
  return h("p", { class: `visit-folder folder-${folder.status}`, "data-folder": folder.status }, text);
}

export function photoRow(photo: VisitPhoto): HTMLElement {
  const facts = [photo.category ? `${photo.category}${photo.shot ? ` → ${photo.shot}` : ""}` : null,
    photo.duplicate ? "already in this visit" : null,
    photo.pending_rules > 0 ? `${photo.pending_rules} check${photo.pending_rules === 1 ? "" : "s"} pending (cloud)` : null,
    `${Math.round(photo.latency_ms)} ms`].filter((f): f is string => f !== null);
  const advice = photo.state === "retake" || photo.state === "unreadable" ? photo.guidance : [];
  return h("li", { class: `visit-photo photo-${photo.state}`, "data-state": photo.state, "data-file": photo.file_name, title: photo.source_path },
    h("span", { class: `chip photo-chip-${photo.state}` }, PHOTO_LABELS[photo.state]),
    h("span", { class: "visit-photo-text" },
      h("span", { class: "row-title" }, photo.file_name),
      h("span", { class: "row-sub" }, facts.join(" · ")),
      ...advice.map((g) => h("span", { class: "guidance" }, g)),
      photo.error && photo.state !== "unreadable" ? h("span", { class: "row-sub item-error-text" }, photo.error) : null));
}

export function renderVisit(state: VisitState): HTMLElement {
  const { visit } = state;
  const started = new Date(visit.started_at);
  const checklist = state.checklist.length === 0
    ? h("p", { class: "muted small" }, "This store's config lists no required shots ([[store.shot]] in stores.toml).")
    : h("table", { class: "checklist" },
      h("tbody", {}, ...state.checklist.map((shot) => h("tr", { "data-shot": shot.name, "data-state": shot.state },
        h("td", {}, h("span", { class: `chip shot-${shot.state}` }, SHOT_LABELS[shot.state])),
        h("td", {}, shot.name, h("span", { class: "muted small" }, ` ${shot.category}`)),
        h("td", { class: "num" }, `${shot.accepted} / ${shot.required}`)))));
  const done = state.checklist.filter((s) => s.state === "done").length;
  return h("div", { class: "visit-body" },
    h("p", { id: "visit-title" }, h("strong", {}, visit.store_name), ` · ${visit.auditor} · since ${isNaN(started.getTime()) ? visit.started_at : started.toLocaleTimeString()}`),
    folderLine(state.folder),
    state.config_error ? h("p", { class: "item-error-text small", id: "visit-config-error" }, `stores.toml not applied (previous config in use): ${state.config_error}`) : null,
    state.pending_cloud > 0
      ? h("p", { class: "small pending-cloud", id: "visit-pending" }, `${state.pending_cloud} rule check${state.pending_cloud === 1 ? "" : "s"} waiting for the network (stored offline, sent when the sync client is connected)`)
      : null,
    h("h3", {}, `Checklist: ${done} of ${state.checklist.length} done`),
    checklist,
    h("h3", {}, `Photos (${state.photos_total})`),
    h("ol", { class: "visit-photos", id: "visit-photos" }, ...state.photos.map(photoRow)),
    state.photos_total > state.photos.length ? h("button", { id: "visit-more" }, `Show more (${state.photos_total - state.photos.length} older)`) : null);
}

export function setupVisitPanel(showBanner: (message: string | null) => void, onPhoto: () => void): void {
  const panel = byId("visit-panel");
  const body = byId("visit-body");
  const badge = byId("visit-badge");
  let visitId: number | null = null;
  let shown = PHOTOS_PAGE;
  let stores: StoresInfo | null = null;
  let busy = false;
  let again = false;
  let shownFor: { id: number; content: HTMLElement; actions: HTMLElement } | null = null;

  const refresh = async (): Promise<void> => {
    // one request at a time; photos landing meanwhile trigger one more
    if (busy) { again = true; return; }
    busy = true;
    try {
      if (visitId === null) { renderStart(); return; }
      const state = await visitApi.state(visitId, 0, shown);
      // the action buttons stay put while photos land: a click (or an export's status and
      // Cancel) must not be lost to a refresh that replaces them mid-press
      if (!shownFor || shownFor.id !== visitId || !body.contains(shownFor.actions)) {
        shownFor = { id: visitId, content: h("div", {}), actions: actions(visitId) };
        body.replaceChildren(shownFor.content, shownFor.actions);
      }
      shownFor.content.replaceChildren(renderVisit(state));
      body.querySelector("#visit-more")?.addEventListener("click", () => { shown += PHOTOS_PAGE; void refresh(); });
      const open = state.checklist.filter((s) => s.state !== "done").length;
      badge.textContent = open === 0 && state.checklist.length > 0 ? "complete" : state.visit.store_name;
    } catch (error) {
      body.replaceChildren(h("p", { class: "model-bad" }, errorMessage(error)));
    } finally {
      busy = false;
      if (again) { again = false; void refresh(); }
    }
  };

  const actions = (visit: number): HTMLElement => {
    const status = h("span", { class: "muted small", id: "visit-action-status" });
    const exportReport = async (format: "pdf" | "csv") => {
      const jobId = await api.newJob();
      const progress = h("span", {}, "Writing the report… ");
      const cancel = h("button", { id: "visit-export-cancel" }, "Cancel");
      cancel.addEventListener("click", () => void api.cancelImport(jobId));
      status.replaceChildren(progress, cancel);
      const unlisten = await visitEvents.onReportProgress((e) => {
        if (e.job_id === jobId) progress.textContent = `Writing the report: ${e.done} / ${e.total} photos `;
      });
      try {
        const written = await visitApi.exportReport(visit, format, jobId);
        status.replaceChildren(written ? `Saved ${written.path}` : "");
      } catch (error) {
        status.replaceChildren(errorMessage(error));
      } finally {
        unlisten();
      }
    };
    const add = h("button", { id: "visit-add" }, "Add photos…");
    add.addEventListener("click", () => void visitApi.pickPhotos(visit).catch((e) => showBanner(errorMessage(e))));
    const pdf = h("button", { id: "visit-export-pdf" }, "Export PDF");
    pdf.addEventListener("click", () => void exportReport("pdf"));
    const csv = h("button", { id: "visit-export-csv" }, "Export CSV");
    csv.addEventListener("click", () => void exportReport("csv"));
    const end = h("button", { id: "visit-end" }, "End visit");
    end.addEventListener("click", async () => {
      try {
        await visitApi.end(visit);
        visitId = null;
        badge.textContent = "none";
        void refresh();
      } catch (error) {
        showBanner(errorMessage(error));
      }
    });
    return h("div", { class: "visit-actions" }, add, pdf, csv, end, status);
  };

  const renderStart = (): void => {
    const storeSelect = h("select", { id: "visit-store", "aria-label": "Store" },
      ...(stores?.stores ?? []).map((s) => h("option", { value: s.id, selected: s.id === stores?.active }, s.name)));
    const auditor = h("input", { id: "visit-auditor", type: "text", placeholder: "Your name", maxlength: 100, value: localStorage.getItem("auditor") ?? "" });
    const folder = stores?.import_folder;
    const choose = h("input", { id: "visit-choose-folder", type: "checkbox", checked: !folder });
    const error = h("p", { class: "item-error-text small", id: "visit-start-error" });
    const startButton = h("button", { class: "primary", id: "visit-start" }, "Start visit");
    startButton.addEventListener("click", async () => {
      error.textContent = "";
      try {
        localStorage.setItem("auditor", auditor.value.trim());
        const visit = await visitApi.start(storeSelect.value, auditor.value, choose.checked);
        if (visit) { visitId = visit.id; shown = PHOTOS_PAGE; await refresh(); }
      } catch (e) {
        error.textContent = errorMessage(e);
      }
    });
    body.replaceChildren(h("div", { class: "visit-start" },
      (stores?.stores.length ?? 0) === 0
        ? h("p", { class: "model-bad" }, `No stores configured: add them to ${stores?.config_path ?? "stores.toml"}`)
        : null,
      h("label", {}, "Store ", storeSelect),
      h("label", {}, "Auditor ", auditor),
      h("p", { class: "small muted" }, folder ? `Photos from ${folder}` : "No import folder in stores.toml"),
      h("label", { class: "small" }, choose, " Choose the camera/phone folder"),
      startButton, error));
  };

  void visitEvents.onPhoto((e) => {
    if (e.visit_id !== visitId) return;
    void refresh();
    onPhoto();
  });
  void visitEvents.onFolder((e) => {
    if (e.visit_id !== visitId) return;
    const line = body.querySelector(".visit-folder");
    line?.replaceWith(folderLine(e.folder));
  });
  void visitEvents.onStoresChanged((info) => {
    stores = info;
    showBanner(info.error ? `Stores config not applied, the previous one stays: ${info.error}` : null);
    void refresh();
  });

  const toggle = () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) void refresh();
  };
  byId("visit-button").addEventListener("click", toggle);
  byId("visit-close").addEventListener("click", () => { panel.hidden = true; });

  void (async () => {
    try {
      stores = await api.listStores();
      const visit = await visitApi.current();
      if (visit) {
        visitId = visit.id;
        badge.textContent = visit.store_name;
        panel.hidden = false;
      } else {
        badge.textContent = "none";
      }
      await refresh();
    } catch (error) {
      showBanner(errorMessage(error));
    }
  })();
}
