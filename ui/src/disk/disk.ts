// The disk under the station's data, when it failed an operation (full, read-only, an I/O
// error): a notice names the disk (folder, mount point, device, free space) and what was not
// saved, and asks the station again every few seconds, so it clears on its own when space
// returns — no restart. Fed by any command that fails with a disk code and by import rows.
import { signal } from "@preact/signals";
import { api } from "../api";
import type { DiskStatus } from "../bindings/DiskStatus";
import type { ErrorCode } from "../bindings/ErrorCode";
import { formatBytes } from "../format";

export const DISK_CODES: readonly ErrorCode[] = ["disk_full", "data_read_only", "disk_failed"];

export type DiskNotice = {
  code: ErrorCode;
  /** The station's words for what failed. */
  message: string;
  status: DiskStatus | null;
  /** Set once the disk takes writes again (shown for a moment, then the notice goes). */
  recovered: boolean;
};

export const diskNotice = signal<DiskNotice | null>(null);

const POLL_MS = 3000;
const RECOVERED_SHOWN_MS = 6000;
let timer: ReturnType<typeof setTimeout> | null = null;

/** A disk code from any command or import row: the notice opens (or keeps the first reason). */
export function diskProblem(code: ErrorCode, message: string): void {
  if (!DISK_CODES.includes(code)) return;
  const current = diskNotice.value;
  if (current && !current.recovered) return;
  diskNotice.value = { code, message, status: current?.status ?? null, recovered: false };
  schedule(0);
}

function schedule(ms: number): void {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(() => void check(), ms);
}

async function check(): Promise<void> {
  timer = null;
  const notice = diskNotice.value;
  if (!notice || notice.recovered) return;
  let status: DiskStatus;
  try {
    status = await api.diskStatus();
  } catch {
    schedule(POLL_MS);
    return;
  }
  const ok = status.writable && (status.free_bytes === null || status.free_bytes >= 1024 * 1024);
  diskNotice.value = { ...notice, status, recovered: ok };
  if (ok) {
    setTimeout(() => {
      if (diskNotice.value?.recovered) diskNotice.value = null;
    }, RECOVERED_SHOWN_MS);
  } else {
    schedule(POLL_MS);
  }
}

/** "tmpfs at /media/card, 12 KB free of 8 MB" */
export function describeDisk(status: DiskStatus): string {
  const where = status.device ? `${status.device} at ${status.mount_point}` : status.mount_point;
  const space = status.free_bytes !== null && status.total_bytes !== null
    ? `, ${formatBytes(status.free_bytes)} free of ${formatBytes(status.total_bytes)}`
    : "";
  return `${where}${space}${status.writable ? "" : ", read-only"}`;
}

/** Read-only mode: data on a disk (or in a folder) that cannot be written is said from the
 *  start, not at the first refused save. */
export async function checkDiskAtStart(): Promise<void> {
  try {
    const status = await api.diskStatus();
    if (!status.writable) {
      diskProblem("data_read_only", "Read-only mode: everything stored can be looked at and exported; nothing new is saved until the folder can be written again (or copy it elsewhere: review-station --backup NEW_FOLDER).");
    }
  } catch {
    // the check itself failing says nothing about the disk
  }
}
