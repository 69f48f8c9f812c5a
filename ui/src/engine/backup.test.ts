import { beforeEach, describe, expect, it, vi } from "vitest";

const api = vi.hoisted(() => ({ newJob: vi.fn(), backUp: vi.fn(), cancelImport: vi.fn(), onBackupProgress: vi.fn() }));
vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), api }));

import { applyProgress, backup, backupText, cancelBackup, startBackup } from "./backup";

describe("a backup from the Engine panel", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    backup.value = { state: "idle" };
    api.onBackupProgress.mockResolvedValue(() => {});
  });

  it("shows the photos copied, then where it went and what it holds", async () => {
    api.newJob.mockResolvedValue(7);
    let finish: (v: unknown) => void = () => {};
    api.backUp.mockReturnValue(new Promise((resolve) => { finish = resolve; }));
    const running = startBackup();
    await vi.waitFor(() => expect(api.backUp).toHaveBeenCalledWith(7));
    expect(backupText(backup.value)).toBe("Backing up: copying the database…");
    applyProgress({ job_id: 8, done: 1, total: 2 });
    expect(backup.value).toEqual({ state: "running", jobId: 7, done: 0, total: 0 });
    applyProgress({ job_id: 7, done: 120, total: 400 });
    expect(backupText(backup.value)).toBe("Backing up: 120 of 400 photos copied");
    await cancelBackup();
    expect(api.cancelImport).toHaveBeenCalledWith(7);
    finish({ folder: "/media/usb/review-station-backup-20261203T031500Z", decisions: 1234, photos: 400, bytes: 52_300_000 });
    await running;
    expect(backupText(backup.value)).toBe(
      "Backed up to /media/usb/review-station-backup-20261203T031500Z: 1234 decisions, 400 photos (52 MB).");
  });

  it("says a cancelled or failed backup plainly, and a dismissed dialog says nothing", async () => {
    api.newJob.mockResolvedValue(1);
    api.backUp.mockRejectedValueOnce({ code: "cancelled", message: "cancelled" });
    await startBackup();
    expect(backupText(backup.value)).toBe("Backup cancelled: nothing was written.");
    api.backUp.mockRejectedValueOnce({ code: "storage", message: "writing /media/usb/x: No space left on device (os error 28)" });
    await startBackup();
    expect(backupText(backup.value)).toContain("No space left on device");
    api.backUp.mockResolvedValueOnce(null);
    await startBackup();
    expect(backup.value).toEqual({ state: "idle" });
  });
});
