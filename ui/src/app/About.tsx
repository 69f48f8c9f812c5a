// About Review Station: the app's version, the engine's, the ONNX Runtime it loaded and the
// version (source package) of every model, with their licences — what a support request needs.
// Opened from the top bar's "About" button or F1 (on the items screen); Escape or Close shuts it.
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { AppInfo } from "../bindings/AppInfo";
import type { EngineStatus } from "../bindings/EngineStatus";
import { keys } from "../keys";
import { checkForUpdates } from "./Update";

type Shown = { info: AppInfo; engine: EngineStatus | null; engineError: string | null } | { error: string };

export const aboutOpen = signal(false);
const shown = signal<Shown | null>(null);

// while open it takes the keys (the screens below stay still); Escape closes it
keys.register("about", (event) => {
  if (event.key !== "Escape") return false;
  closeAbout();
  return true;
});

export async function openAbout(): Promise<void> {
  aboutOpen.value = true;
  keys.activate("about");
  try {
    const info = await api.appInfo();
    try {
      shown.value = { info, engine: await api.engineStatus(), engineError: null };
    } catch (error) {
      shown.value = { info, engine: null, engineError: errorMessage(error) };
    }
  } catch (error) {
    shown.value = { error: errorMessage(error) };
  }
}

export function closeAbout(): void {
  aboutOpen.value = false;
  keys.deactivate("about");
}

export function AboutBody({ shown: s }: { shown: Shown }) {
  if ("error" in s) return <p class="model-bad" role="alert">{s.error}</p>;
  const { info, engine, engineError } = s;
  const models = engine?.models.filter((m) => m.state !== "not_installed") ?? [];
  return (
    <div>
      <p id="about-version"><strong>{`Review Station ${info.version}`}</strong></p>
      <dl class="about-facts">
        <dt>Engine</dt><dd id="about-engine">{info.engine_version}</dd>
        <dt>ONNX Runtime</dt>
        <dd id="about-runtime">{engine ? `${engine.runtime_library || "not loaded"}${engine.provider ? ` (${engine.provider})` : ""}` : engineError ?? "…"}</dd>
        <dt>Data</dt><dd id="about-data">{info.data_dir}</dd>
      </dl>
      {models.length > 0 && (
        <table id="about-models" class="about-models">
          <thead><tr><th>Model</th><th>Version</th><th>Licence</th></tr></thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name} data-model={m.name}><td>{m.name}</td><td>{m.package}</td><td>{m.license}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function AboutDialog() {
  const close = useRef<HTMLButtonElement>(null);
  const open = aboutOpen.value;
  useEffect(() => { if (open) close.current?.focus(); }, [open]);
  if (!open) return null;
  const s = shown.value;
  return (
    <div class="about-backdrop" onClick={(e) => { if (e.target === e.currentTarget) closeAbout(); }}>
      <div id="about-dialog" class="about-dialog" role="dialog" aria-modal="true" aria-label="About Review Station">
        <h2>About Review Station</h2>
        {s === null ? <p class="muted">…</p> : <AboutBody shown={s} />}
        <div class="row">
          <button id="about-check-updates" title="Ask the connected router for a newer release"
            onClick={() => { closeAbout(); void checkForUpdates(); }}>Check for updates</button>
          <button id="about-close" ref={close} class="primary" onClick={closeAbout}>Close</button>
        </div>
      </div>
    </div>
  );
}
