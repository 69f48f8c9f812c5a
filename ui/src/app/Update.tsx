// The station's own updates: a top-bar button once the router offers a newer release, and a
// dialog with what is new, the download's progress (cancellable), why an update was refused
// (a signature that does not verify installs nothing) and the restart into the new version.
// Checking and installing are Rust's (the updater plugin); this shows the state it reports.
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { UpdateState } from "../bindings/UpdateState";
import type { UpdateStep } from "../bindings/UpdateStep";
import { keys } from "../keys";

export const updateState = signal<UpdateState>({ state: "idle" });
export const updateOpen = signal(false);
/** A command's own failure (not the update's): shown in the dialog. */
const commandError = signal<string | null>(null);

keys.register("update", (event) => {
  if (event.key !== "Escape") return false;
  closeUpdate();
  return true;
});

/** Follows the state Rust reports (the check at start runs before the UI listens: asked once). */
export async function setupUpdates(): Promise<void> {
  await api.onUpdateState((s) => { updateState.value = s; });
  try {
    updateState.value = await api.updateState();
  } catch {
    // the state stays "idle": nothing to offer
  }
}

export function openUpdate(): void {
  updateOpen.value = true;
  commandError.value = null;
  keys.activate("update");
}

export function closeUpdate(): void {
  updateOpen.value = false;
  keys.deactivate("update");
}

async function run(command: () => Promise<UpdateState | void>): Promise<void> {
  commandError.value = null;
  try {
    const state = await command();
    if (state) updateState.value = state;
  } catch (error) {
    commandError.value = errorMessage(error);
  }
}

/** Asks the router now (About's "Check for updates"); opens the dialog with the answer. */
export async function checkForUpdates(): Promise<void> {
  openUpdate();
  await run(api.updateCheck);
}

const STEP: Record<UpdateStep, string> = {
  check: "The update check failed",
  download: "The download failed",
  verify: "The update was refused",
  install: "The update could not be installed",
};

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The top-bar button: only while there is something to do about an update. */
export function UpdateButton() {
  const s = updateState.value;
  const label = s.state === "available" ? `Update ${s.offer.version}`
    : s.state === "downloading" ? `Updating ${s.total ? Math.floor((100 * s.received) / s.total) : 0} %`
    : s.state === "installing" ? "Installing update…"
    : s.state === "installed" ? "Restart to update"
    : s.state === "failed" && s.offer ? "Update failed"
    : null;
  if (label === null) return null;
  return (
    <button id="update-button" class="primary" data-state={s.state} title="A newer Review Station: what is new, install, restart" onClick={openUpdate}>
      {label}
    </button>
  );
}

export function UpdateBody({ state: s, error }: { state: UpdateState; error: string | null }) {
  const offer = s.state === "available" || s.state === "downloading" || s.state === "installing" ? s.offer
    : s.state === "failed" ? s.offer : null;
  return (
    <div>
      {offer && (
        <>
          <p id="update-offer"><strong>{`Review Station ${offer.version}`}</strong>{` is available (this is ${offer.current_version}).`}
            {offer.date && <span class="muted">{` Published ${offer.date.slice(0, 10)}.`}</span>}</p>
          <h3>What is new</h3>
          {/* as text: release notes never become markup in the webview */}
          <div id="update-notes" class="update-notes">{offer.notes?.trim() || "No notes were published with this release."}</div>
        </>
      )}
      {s.state === "idle" && <p id="update-status" class="muted">Updates come from the router this station is connected to; it is not connected, or has not asked yet.</p>}
      {s.state === "checking" && <p id="update-status" class="muted">Asking the router for a newer release…</p>}
      {s.state === "up_to_date" && <p id="update-status">{`This is the newest release the router offers (asked ${s.checked_at.slice(11, 16)}).`}</p>}
      {s.state === "downloading" && (
        <div id="update-progress">
          <progress max={s.total ?? undefined} value={s.received} />
          <span class="muted">{s.total ? ` ${megabytes(s.received)} of ${megabytes(s.total)}` : ` ${megabytes(s.received)}`}</span>
        </div>
      )}
      {s.state === "installing" && <p id="update-status" class="muted">Signature verified; putting the new version in place…</p>}
      {s.state === "installed" && <p id="update-status">{`Review Station ${s.version} is installed; it runs from the next start.`}</p>}
      {s.state === "failed" && (
        <p id="update-error" class="model-bad" role="alert" data-step={s.step}>{`${STEP[s.step]}: ${s.message}`}</p>
      )}
      {error && <p class="model-bad" role="alert">{error}</p>}
    </div>
  );
}

export function UpdateDialog() {
  const first = useRef<HTMLButtonElement>(null);
  const open = updateOpen.value;
  useEffect(() => { if (open) first.current?.focus(); }, [open]);
  if (!open) return null;
  const s = updateState.value;
  // a package refused for its signature is not tried again as it was: asked again instead
  // (the publisher may have fixed the release)
  const canInstall = s.state === "available" || (s.state === "failed" && s.offer !== null && s.step !== "verify");
  return (
    <div class="about-backdrop" onClick={(e) => { if (e.target === e.currentTarget) closeUpdate(); }}>
      <div id="update-dialog" class="about-dialog" role="dialog" aria-modal="true" aria-label="Update Review Station">
        <h2>Update Review Station</h2>
        <UpdateBody state={s} error={commandError.value} />
        <div class="row">
          {canInstall && <button id="update-install" class="primary" ref={first} onClick={() => void run(api.updateInstall)}>
            {s.state === "failed" ? "Try again" : "Download and install"}</button>}
          {s.state === "downloading" && <button id="update-cancel" ref={first} onClick={() => void run(api.updateCancel)}>Cancel</button>}
          {s.state === "installed" && <button id="update-restart" class="primary" ref={first} onClick={() => void run(api.updateRestart)}>Restart now</button>}
          {(s.state === "idle" || s.state === "up_to_date" || s.state === "failed") && (
            <button id="update-check" onClick={() => void run(api.updateCheck)}>Check again</button>
          )}
          <button id="update-close" ref={canInstall || s.state === "downloading" || s.state === "installed" ? undefined : first} onClick={closeUpdate}>
            {s.state === "downloading" ? "Hide" : "Later"}</button>
        </div>
      </div>
    </div>
  );
}

