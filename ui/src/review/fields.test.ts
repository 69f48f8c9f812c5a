import { describe, expect, it } from "vitest";
import { applyComplianceEdit, applyEdit, emptyTaskMessage, fieldsOf, isFinalSaveError, llmSummaryOf, SHORTCUTS } from "./fields";
import { percentile, simulationSeries } from "./charts";
import type { ReviewTask } from "../bindings/ReviewTask";

const output = {
  number: { value: "INV-7", printed: "INV-7", confidence: 0.96, checks: [], evidence: [] },
  total: { value: "1180.00", printed: "1,180.00", confidence: 0.42, checks: [{ name: "totals_add_up", passed: false, detail: "" }], evidence: [] },
  date: { value: { iso: "2026-03-05", ambiguous: true, order: "dmy" }, printed: "05/03/2026", confidence: 0.9, checks: [], evidence: [] },
  line_items: [],
  checks: [],
};

describe("review fields", () => {
  it("lists the fields with their confidence and marks the doubtful ones", () => {
    const fields = fieldsOf(output, ["date"]);
    expect(fields.map((f) => [f.name, f.value, f.doubtful])).toEqual([
      ["number", "INV-7", false], ["total", "1180.00", true], ["date", "2026-03-05", true],
    ]);
    expect(fields[1].failed).toEqual(["totals_add_up"]);
    expect(fields.every((f) => f.second === null)).toBe(true);
  });

  it("reads a judgment's LLM summary and outcome, and nothing when there is none", () => {
    const judged = { second_opinion: { result: { outcome: "dismissed", summary: [{ text: "The appeal fails.", page: 3 }, { page: 1 }] } } };
    expect(llmSummaryOf(judged)).toEqual({ outcome: "dismissed", sentences: ["The appeal fails."] });
    expect(llmSummaryOf(output)).toBeNull();
    expect(llmSummaryOf({ second_opinion: { result: { total: "9" } } })).toBeNull();
  });

  it("shows the router LLM's second opinion: agreement, or the value it read", () => {
    const withOpinion = { ...output, second_opinion: { agree: ["date"], differ: [{ field: "number", local: "INV-7", llm: "INV-1" }] } };
    const fields = fieldsOf(withOpinion, []);
    expect(fields.map((f) => [f.name, f.second, f.doubtful])).toEqual([
      ["number", { agrees: false, value: "INV-1" }, true],
      ["total", null, true],
      ["date", { agrees: true }, false],
    ]);
  });

  it("applies an edit keeping the field's type and leaves the rest alone", () => {
    const after = applyEdit(applyEdit(output, "total", "1190.00"), "date", "2026-05-03") as typeof output;
    expect(after.total.value).toBe("1190.00");
    expect(after.date.value).toEqual({ iso: "2026-05-03", ambiguous: false, order: "dmy" });
    expect(after.number).toEqual(output.number);
    expect(output.total.value).toBe("1180.00");
  });

  it("documents every key the workbench answers to", () => {
    const keys = SHORTCUTS.map(([k]) => k).join(" ");
    for (const k of ["A", "R", "E", "Tab", "U", "J", "K", "M", "X", "I", "PageDown", "Space", "?", "Esc"]) expect(keys).toContain(k);
  });
});

describe("threshold simulator", () => {
  it("turns the simulation into chart series in percent", () => {
    const [x, review, errors] = simulationSeries({
      simulation: [
        { threshold: 0, review_share: 0, error_rate: 0.25, auto_accepted: 4 },
        { threshold: 1, review_share: 1, error_rate: 0, auto_accepted: 0 },
      ],
      volume: [],
      gate: [],
    });
    expect(x).toEqual([0, 1]);
    expect(review).toEqual([0, 100]);
    expect(errors).toEqual([25, 0]);
  });
});

describe("percentile", () => {
  it("reads the p95 of the session's timings", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile(values, 0.5)).toBe(51);
    expect(percentile([], 0.95)).toBe(0);
  });
});

describe("compliance corrections", () => {
  it("set validity and the category, keeping the rest", () => {
    const model = { valid: false, invalid_reasons: ["blur"], category: { predicted: "Fruit", verdict: "predicted" }, rules: [] };
    expect(applyComplianceEdit(model, true, null)).toEqual({ ...model, valid: true });
    expect(applyComplianceEdit(model, null, "Vegetables")).toEqual({ ...model, category: { predicted: "Vegetables", verdict: "predicted" } });
    expect(model.valid).toBe(false);
  });
});

describe("compliance rule corrections", () => {
  it("mark the rules the reviewer judged otherwise, and only those", () => {
    const model = { valid: false, rules: [{ id: "quality", passed: false }, { id: "category", passed: true }, { id: "shelf", passed: null }] };
    const after = applyComplianceEdit(model, true, null, new Map([["quality", true]])) as typeof model;
    expect(after.rules.map((r) => r.passed)).toEqual([true, true, null]);
    expect(after.valid).toBe(true);
    expect(model.rules[0].passed).toBe(false);
  });
});

describe("saves", () => {
  it("retry what may pass later and stop on what never will", () => {
    expect(isFinalSaveError({ code: "task_not_held", message: "task 7 is decided or leased to another reviewer" })).toBe(true);
    expect(isFinalSaveError({ code: "invalid_request", message: "a rejection needs a reason code" })).toBe(true);
    expect(isFinalSaveError({ code: "storage", message: "database is locked" })).toBe(false);
    expect(isFinalSaveError({ code: "engine_unavailable", message: "still loading" })).toBe(false);
    // a full or read-only disk: the decision waits in the queue and lands once the disk is back
    expect(isFinalSaveError({ code: "disk_full", message: "The disk holding the station's data is full" })).toBe(false);
    expect(isFinalSaveError({ code: "data_read_only", message: "The station's data cannot be written" })).toBe(false);
    expect(isFinalSaveError({ code: "disk_failed", message: "The disk failed a read or write" })).toBe(false);
    // the message does not decide: a final code whose message looks transient stays final
    expect(isFinalSaveError({ code: "not_found", message: "database is locked (storage)" })).toBe(true);
    // not the station's error at all (the IPC failed): may pass on a retry
    expect(isFinalSaveError(new Error("Failed to fetch"))).toBe(false);
    expect(isFinalSaveError({ code: "no_such_code", message: "x" })).toBe(false);
  });
});

describe("the empty task view", () => {
  const task = (id: number, owner: string | null): ReviewTask => ({
    id, item_id: id, kind: "invoice", store_id: "s1", confidence: 0.4, reasons: ["low_confidence"],
    created_at: "2026-12-02T10:00:00Z", due_at: null, model_output: {}, versions: {},
    lease_owner: owner, lease_expires_at: owner ? "2026-12-02T14:05:00Z" : null,
  });
  it("says nothing is open only when the queue is empty", () => {
    expect(emptyTaskMessage(0, [], "ana")).toBe("Nothing to review with these filters.");
  });
  it("names who holds the listed task and until when", () => {
    const message = emptyTaskMessage(1, [task(12, "bo")], "ana");
    expect(message).toMatch(/^Task 12 is being reviewed by bo until \S+/);
    expect(message).not.toMatch(/Nothing to review/);
  });
  it("never claims the queue is empty when it lists a task", () => {
    expect(emptyTaskMessage(1, [task(3, null)], "ana")).toMatch(/1 open task is in the queue/);
    expect(emptyTaskMessage(1, [task(3, "ana")], "ana")).not.toMatch(/Nothing to review/);
  });
});

describe("the shortcuts list (?)", () => {
  it("names every key the review screen's handler answers to", async () => {
    const { default: screen } = await import("./ReviewScreen.tsx?raw");
    const handled = [...(screen as string).matchAll(/case "([^"]+)":/g)].map((m) => m[1]);
    expect(handled.length).toBeGreaterThan(10);
    // the keys as the list names them: "J or ↓", "X / Shift+X (metrics)", "Esc (in a field)"…
    const listed = new Set(SHORTCUTS.flatMap(([k]) => k.replace(/\([^)]*\)/g, "").split(/ \/ | or /).map((t) => t.trim())));
    const name = (key: string) => ({ ArrowDown: "↓", ArrowUp: "↑", Escape: "Esc" } as Record<string, string>)[key]
      ?? (key.length === 1 && key !== key.toLowerCase() ? `Shift+${key}` : key.length === 1 ? key.toUpperCase() : key);
    const missing = handled.filter((k) => !listed.has(name(k)));
    expect(missing).toEqual([]);
  });
});
