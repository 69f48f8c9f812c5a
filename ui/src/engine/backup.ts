// A backup of the data directory from the Engine panel: a folder picked, then the copy with its
// progress (photos copied of all) and a Cancel; the result says where it went and what it holds.
import { signal } from "@preact/signals";
import { api, errorMessage } from "../api";
import type { BackupProgress } from "../bindings/BackupProgress";
import type { BackupWritten } from "../bindings/BackupWritten";

export type BackupState =
  | { state: "idle" }
  | { state: "running"; jobId: number; done: number; total: number }
  | { state: "done"; written: BackupWritten }
  | { state: "failed"; message: string };

export const backup = signal<BackupState>({ state: "idle" });

export function backupText(b: BackupState): string {
  switch (b.state) {
    case "idle": return "";
    case "running": return b.total > 0 ? `Backing up: ${b.done} of ${b.total} photos copied` : "Backing up: copying the database…";
    case "done": return `Backed up to ${b.written.folder}: ${b.written.decisions} decisions, ${b.written.photos} photos (${megabytes(b.written.bytes)}).`;
    case "failed": return b.message;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 1 : 0)} MB`;
}

/** A progress event, applied when it belongs to the running backup. */
export function applyProgress(e: BackupProgress): void {
  const b = backup.value;
  if (b.state === "running" && b.jobId === e.job_id) backup.value = { ...b, done: e.done, total: e.total };
}

let listening = false;

export async function startBackup(): Promise<void> {
  if (backup.value.state === "running") return;
  if (!listening) {
    listening = true;
    await api.onBackupProgress(applyProgress);
  }
  const jobId = await api.newJob();
  backup.value = { state: "running", jobId, done: 0, total: 0 };
  try {
    const written = await api.backUp(jobId);
    backup.value = written === null ? { state: "idle" } : { state: "done", written };
  } catch (error) {
    const code = (error as { code?: string } | null)?.code;
    backup.value = code === "cancelled"
      ? { state: "failed", message: "Backup cancelled: nothing was written." }
      : { state: "failed", message: `The backup failed: ${errorMessage(error)}` };
  }
}

export async function cancelBackup(): Promise<void> {
  const b = backup.value;
  if (b.state === "running") await api.cancelImport(b.jobId);
}
