// The Engine panel: is the local engine usable, on which execution provider, with which models.
import { api, errorMessage } from "./api";
import type { EngineStatus } from "./bindings/EngineStatus";
import { byId, h } from "./dom";

type Model = EngineStatus["models"][number];

function modelTable(models: Model[]): HTMLElement {
  const rows = models.map((m) => h("tr", { "data-model": m.name },
    h("td", {}, m.name),
    h("td", {}, m.package),
    h("td", { class: m.state === "ok" ? "model-ok" : m.state === "not_installed" ? "muted" : "model-bad", title: m.detail ?? "" },
      m.state === "ok" ? "ok" : `${m.state.replace("_", " ")}: ${m.detail ?? ""}`),
    h("td", {}, m.license)));
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", {}, "Source"), h("th", {}, "State"), h("th", {}, "Licence"))),
    h("tbody", {}, ...rows));
}

export function renderEngine(status: EngineStatus): HTMLElement {
  // The optional GPU runtime is many files; keep them folded unless installed.
  const optional = status.models.filter((m) => m.state === "not_installed");
  const required = status.models.filter((m) => m.state !== "not_installed");
  return h("div", {},
    h("p", { class: status.available ? "model-ok" : "model-bad", id: "engine-summary" },
      status.available ? `Available on ${status.provider ?? "?"}` : `Unavailable: ${status.error ?? "unknown reason"}`),
    status.provider_note ? h("p", { class: "small", id: "provider-note" }, status.provider_note) : null,
    status.available
      ? h("p", { class: "muted small", id: "engine-workers" },
        `${status.workers} worker${status.workers === 1 ? "" : "s"} × ${status.threads_per_worker} thread${status.threads_per_worker === 1 ? "" : "s"}, sessions created once and reused`)
      : null,
    h("p", { class: "muted small", id: "engine-cpu" }, `CPU: ${status.cpu}`),
    h("p", { class: "muted small" }, `${status.engine_version} · runtime ${status.runtime_library || "—"} · models in ${status.models_dir}`),
    modelTable(required),
    optional.length > 0
      ? h("details", { class: "optional-models" },
        h("summary", { class: "small" }, `Optional GPU runtime: ${optional.length} files not installed (python3 models/fetch.py --gpu)`),
        modelTable(optional))
      : null);
}

export function setupEnginePanel(): void {
  const panel = byId("engine-panel");
  const body = byId("engine-body");
  const badge = byId("engine-state");
  const refresh = async () => {
    try {
      const status = await api.engineStatus();
      badge.textContent = status.available ? "ready" : "unavailable";
      badge.className = `engine-state ${status.available ? "ok" : "bad"}`;
      body.replaceChildren(renderEngine(status));
    } catch (error) {
      badge.textContent = "error";
      badge.className = "engine-state bad";
      body.replaceChildren(h("p", { class: "model-bad" }, errorMessage(error)));
    }
  };
  byId("engine-button").addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) void refresh();
  });
  byId("engine-close").addEventListener("click", () => { panel.hidden = true; });
  void refresh();
}
