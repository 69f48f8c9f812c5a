import { describe, expect, it } from "vitest";
import type { DecisionRecord } from "../bindings/DecisionRecord";
import { SaveQueue, type PendingSave, type SaveQueueHooks } from "./save-queue";

const record = (taskId: number): DecisionRecord => ({
  id: taskId, task_id: taskId, reviewer: "ana", action: "approve", reason_code: null, undoes: null,
  decided_at: "2026-12-02T12:00:00Z", duration_ms: 1000, hash: "h", learned: null, learn_error: null, commit_ms: 2,
});
const save = (taskId: number): PendingSave => ({ taskId, decision: { action: "approve" }, durationMs: 1000, attempts: 0 });

function memoryStorage() {
  const data = new Map<string, string>();
  return { data, getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => { data.set(k, v); } };
}

/** A station whose answers are scripted per task: "ok", "busy" (transient) or "taken" (final). */
function harness(script: Record<number, string[]>) {
  const sent: number[] = [];
  const waits: number[] = [];
  const hooks: SaveQueueHooks = {
    decide: (s) => {
      sent.push(s.taskId);
      const answer = script[s.taskId]?.shift() ?? "ok";
      if (answer === "ok") return Promise.resolve(record(s.taskId));
      return Promise.reject({ code: answer === "busy" ? "storage" : "task_not_held", message: answer });
    },
    isFinal: (e) => (e as { code: string }).code !== "storage",
    message: (e) => (e as { message: string }).message,
    wait: (ms) => { waits.push(ms); return Promise.resolve(); },
    now: () => 0,
  };
  return { hooks, sent, waits };
}

describe("the save queue", () => {
  it("saves in the order decided, retries what may pass with growing waits, and keeps going past a refusal", async () => {
    const { hooks, sent, waits } = harness({ 1: ["busy", "busy", "ok"], 2: ["taken"], 3: ["ok"] });
    const storage = memoryStorage();
    const queue = new SaveQueue(hooks, storage);
    queue.open("/data/a");
    queue.push(save(1));
    queue.push(save(2));
    queue.push(save(3));
    await queue.settled();
    expect(sent).toEqual([1, 1, 1, 2, 3]);
    expect(waits.filter((w) => w !== 20)).toEqual([1000, 2000]);
    expect(queue.pending).toEqual([]);
    expect(queue.failed.map((f) => [f.taskId, f.error])).toEqual([[2, "taken"]]);
    // what is left is kept for this data directory only
    expect(JSON.parse(storage.data.get("review-failed:/data/a") ?? "[]")).toHaveLength(1);
    expect(storage.data.has("review-failed:/data/b")).toBe(false);
  });

  it("picks up what one data directory left unsaved, and not another's", async () => {
    const storage = memoryStorage();
    storage.setItem("review-unsaved:/data/a", JSON.stringify([save(7)]));
    const { hooks, sent } = harness({});
    const other = new SaveQueue(hooks, storage);
    other.open("/data/b");
    await other.settled();
    expect(sent).toEqual([]);
    const queue = new SaveQueue(hooks, storage);
    queue.open("/data/a");
    await queue.settled();
    expect(sent).toEqual([7]);
    expect(storage.data.get("review-unsaved:/data/a")).toBe("[]");
  });

  it("takes back a decision not yet sent, but not the one being saved", async () => {
    let release: (r: DecisionRecord) => void = () => {};
    const { hooks } = harness({});
    hooks.decide = (s) => new Promise((resolve) => { release = () => resolve(record(s.taskId)); });
    const queue = new SaveQueue(hooks, memoryStorage());
    queue.open("/d");
    queue.push(save(1));
    queue.push(save(2));
    expect(queue.dropUnsent(1)).toBe(false); // in flight
    expect(queue.dropUnsent(2)).toBe(true);
    expect(queue.taskIds()).toEqual([1]);
    release(record(1));
    await queue.settled();
    expect(queue.pending).toEqual([]);
  });

  it("survives storage that holds garbage", () => {
    const storage = memoryStorage();
    storage.setItem("review-unsaved:/d", "{not json");
    storage.setItem("review-failed:/d", "\"a string\"");
    const queue = new SaveQueue(harness({}).hooks, storage);
    queue.open("/d");
    expect(queue.pending).toEqual([]);
    expect(queue.failed).toEqual([]);
  });
});
