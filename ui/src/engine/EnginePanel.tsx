// The Engine panel: is the local engine usable, on which execution provider, with which models;
// and the data directory's backup.
// Its badge sits in the top bar; the check runs once after the first screen and on each opening.
import { signal } from "@preact/signals";
import { api, errorMessage } from "../api";
import type { EngineStatus } from "../bindings/EngineStatus";
import { backup, backupText, cancelBackup, startBackup } from "./backup";

type Model = EngineStatus["models"][number];
type Loaded = { status: EngineStatus } | { error: string } | null;

const loaded = signal<Loaded>(null);
const open = signal(false);

export async function refreshEngine(): Promise<void> {
  try {
    loaded.value = { status: await api.engineStatus() };
  } catch (error) {
    loaded.value = { error: errorMessage(error) };
  }
}

export function toggleEngine(): void {
  open.value = !open.value;
  if (open.value) void refreshEngine();
}

export function EngineBadge() {
  const l = loaded.value;
  const [text, state] = l === null ? ["…", ""] : "error" in l ? ["error", "bad"]
    : l.status.available ? ["ready", "ok"] : ["unavailable", "bad"];
  return <span id="engine-state" class={`engine-state ${state}`}>{text}</span>;
}

function ModelTable({ models }: { models: Model[] }) {
  return (
    <table>
      <thead><tr><th>Model</th><th>Source</th><th>State</th><th>Licence</th></tr></thead>
      <tbody>
        {models.map((m) => (
          <tr key={m.name} data-model={m.name}>
            <td>{m.name}</td>
            <td>{m.package}</td>
            <td class={m.state === "ok" ? "model-ok" : m.state === "not_installed" ? "muted" : "model-bad"} title={m.detail ?? ""}>
              {m.state === "ok" ? "ok" : `${m.state.replace("_", " ")}: ${m.detail ?? ""}`}
            </td>
            <td>{m.license}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EngineReport({ status }: { status: EngineStatus }) {
  // The optional GPU runtime is many files; keep them folded unless installed.
  const optional = status.models.filter((m) => m.state === "not_installed");
  const required = status.models.filter((m) => m.state !== "not_installed");
  return (
    <div>
      <p class={status.available ? "model-ok" : "model-bad"} id="engine-summary">
        {status.available ? `Available on ${status.provider ?? "?"}` : `Unavailable: ${status.error ?? "unknown reason"}`}
      </p>
      {status.provider_note && <p class="small" id="provider-note">{status.provider_note}</p>}
      {status.available && (
        <p class="muted small" id="engine-workers">
          {`${status.workers} worker${status.workers === 1 ? "" : "s"} × ${status.threads_per_worker} thread${status.threads_per_worker === 1 ? "" : "s"}, sessions created once and reused`}
        </p>
      )}
      <p class="muted small" id="engine-cpu">{`CPU: ${status.cpu}`}</p>
      <p class="muted small">{`${status.engine_version} · runtime ${status.runtime_library || "—"} · models in ${status.models_dir}`}</p>
      <ModelTable models={required} />
      {optional.length > 0 && (
        <details class="optional-models">
          <summary class="small">{`Optional GPU runtime: ${optional.length} files not installed (python3 models/fetch.py --gpu)`}</summary>
          <ModelTable models={optional} />
        </details>
      )}
    </div>
  );
}

/** The data directory's backup: a consistent copy taken while the station keeps working. */
export function BackupSection() {
  const b = backup.value;
  const text = backupText(b);
  return (
    <section class="backup" aria-label="Backup">
      <h4>Data</h4>
      <p class="muted small">A consistent copy of the database, every photo it refers to (each checked) and the
        configuration, into a new folder; restore with <code>review-station --restore FOLDER</code>.</p>
      {b.state === "running"
        ? <button id="backup-cancel" onClick={() => void cancelBackup()}>Cancel</button>
        : <button id="backup-button" onClick={() => void startBackup()}>Back up…</button>}
      {b.state === "running" && b.total > 0 && <progress id="backup-progress" max={b.total} value={b.done} />}
      {text && <p id="backup-status" class={`small ${b.state === "failed" ? "model-bad" : ""}`} role="status">{text}</p>}
    </section>
  );
}

export function EnginePanel() {
  const l = loaded.value;
  return (
    <aside id="engine-panel" class="engine-panel" hidden={!open.value} aria-label="Engine">
      <div class="batch-head"><strong>Local engine</strong><button id="engine-close" title="Hide" onClick={() => { open.value = false; }}>×</button></div>
      <div id="engine-body" class="engine-body">
        {l !== null && ("error" in l ? <p class="model-bad">{l.error}</p> : <EngineReport status={l.status} />)}
        <BackupSection />
      </div>
    </aside>
  );
}
