// The review workbench's save queue: decisions are saved one after another, in the order they
// were made, behind the screen. A save that may pass later (the database busy, the IPC down) is
// retried with back-off and never dropped; one the station refuses for good (decided elsewhere,
// taken over, refused) is kept in `failed`, so no decision disappears unseen, and does not hold
// back the ones after it. Pending and failed saves are kept per data directory (they are that
// directory's tasks). Pure: the station call, the clock and the storage are given to it.
import type { DecisionInput } from "../bindings/DecisionInput";
import type { DecisionRecord } from "../bindings/DecisionRecord";

export interface PendingSave {
  taskId: number;
  /** Who decided (the session's reviewer then; switching waits until every save landed). */
  reviewer?: string;
  decision: DecisionInput;
  durationMs: number;
  attempts: number;
}

export type FailedSave = PendingSave & { error: string };

export interface SaveQueueHooks {
  /** Saves one decision at the station. */
  decide: (save: PendingSave) => Promise<DecisionRecord>;
  /** Whether an error is final for this save (retrying cannot help). */
  isFinal: (error: unknown) => boolean;
  /** A readable message for an error. */
  message: (error: unknown) => string;
  saved?: (save: PendingSave, record: DecisionRecord, roundTripMs: number) => void;
  refused?: (save: FailedSave) => void;
  /** Anything changed (for the status line). */
  changed?: () => void;
  /** The queue ran dry. */
  idle?: () => void;
  wait?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Where pending and failed saves are kept: `localStorage` in the app. */
export type SaveStorage = Pick<Storage, "getItem" | "setItem">;

/** Failed saves kept at most (the oldest go first). */
const FAILED_KEPT = 200;

export class SaveQueue {
  readonly pending: PendingSave[] = [];
  readonly failed: FailedSave[] = [];
  private key: string | null = null;
  private saving = false;
  private inFlight: PendingSave | null = null;

  constructor(private readonly hooks: SaveQueueHooks, private readonly storage: SaveStorage) {}

  /** Opens the queue of one data directory: what was left unsaved there is saved now. */
  open(key: string): void {
    this.key = key;
    const read = <T>(name: string): T[] => {
      try {
        const value: unknown = JSON.parse(this.storage.getItem(`${name}:${key}`) ?? "[]");
        return Array.isArray(value) ? (value as T[]) : [];
      } catch {
        return [];
      }
    };
    this.pending.splice(0, this.pending.length, ...read<PendingSave>("review-unsaved"));
    this.failed.splice(0, this.failed.length, ...read<FailedSave>("review-failed"));
    this.hooks.changed?.();
    if (this.pending.length > 0) void this.pump();
  }

  push(save: PendingSave): void {
    this.pending.push(save);
    this.persist();
    this.hooks.changed?.();
    void this.pump();
  }

  /** Takes back a decision that has not been sent yet; false when it is being sent or saved. */
  dropUnsent(taskId: number): boolean {
    const at = this.pending.findIndex((s) => s.taskId === taskId && s !== this.inFlight);
    if (at < 0) return false;
    this.pending.splice(at, 1);
    this.persist();
    this.hooks.changed?.();
    return true;
  }

  has(taskId: number): boolean {
    return this.pending.some((s) => s.taskId === taskId);
  }

  taskIds(): number[] {
    return this.pending.map((s) => s.taskId);
  }

  /** The first save that has failed at least once and is being retried. */
  retrying(): PendingSave | undefined {
    return this.pending.find((s) => s.attempts > 0);
  }

  /** Resolves once every pending save has been sent and answered. */
  async settled(): Promise<void> {
    const wait = this.hooks.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    while (this.pending.length > 0 || this.saving) await wait(20);
  }

  async pump(): Promise<void> {
    if (this.saving) return;
    this.saving = true;
    const now = this.hooks.now ?? (() => performance.now());
    const wait = this.hooks.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    try {
      while (this.pending.length > 0) {
        const save = this.pending[0];
        try {
          const began = now();
          this.inFlight = save;
          let record: DecisionRecord;
          try {
            record = await this.hooks.decide(save);
          } finally {
            this.inFlight = null;
          }
          this.remove(save);
          this.hooks.saved?.(save, record, now() - began);
        } catch (error) {
          if (this.hooks.isFinal(error)) {
            const failed = { ...save, error: this.hooks.message(error) };
            this.failed.push(failed);
            if (this.failed.length > FAILED_KEPT) this.failed.splice(0, this.failed.length - FAILED_KEPT);
            this.remove(save);
            this.hooks.refused?.(failed);
          } else {
            save.attempts += 1;
            this.persist();
            this.hooks.changed?.();
            await wait(Math.min(8000, 500 * 2 ** save.attempts));
          }
        }
        this.hooks.changed?.();
      }
    } finally {
      this.saving = false;
      this.hooks.changed?.();
      this.hooks.idle?.();
    }
  }

  private remove(save: PendingSave): void {
    const at = this.pending.indexOf(save);
    if (at >= 0) this.pending.splice(at, 1);
    this.persist();
  }

  private persist(): void {
    if (this.key === null) return;
    this.storage.setItem(`review-unsaved:${this.key}`, JSON.stringify(this.pending));
    this.storage.setItem(`review-failed:${this.key}`, JSON.stringify(this.failed));
  }
}
