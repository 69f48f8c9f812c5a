// The disk notice under the top bar: which disk failed the station, what was not saved, and,
// once the station finds room again, that work can go on.
import { describeDisk, diskNotice } from "./disk";

const TITLES: Record<string, string> = {
  disk_full: "The disk is full",
  data_read_only: "The station's data cannot be written",
  disk_failed: "The disk failed",
};

const UNTIL: Record<string, string> = {
  disk_full: "when there is room",
  data_read_only: "when the folder can be written again",
};

export function DiskNotice() {
  const notice = diskNotice.value;
  if (!notice) return null;
  if (notice.recovered) {
    return (
      <div id="disk-notice" class="disk-notice recovered" role="status">
        {notice.status ? `${describeDisk(notice.status)}: ` : ""}the disk takes writes again — you can go on (do again what was not saved).
      </div>
    );
  }
  return (
    <div id="disk-notice" class="disk-notice" role="alert">
      <strong>{TITLES[notice.code] ?? "Disk problem"}</strong>
      {notice.status ? <span> — {notice.status.data_dir} on {describeDisk(notice.status)}</span> : null}
      <div>{notice.message}</div>
      <div class="disk-notice-hint">Checking again every few seconds; this notice goes {UNTIL[notice.code] ?? "when the disk takes writes again"}.</div>
    </div>
  );
}
