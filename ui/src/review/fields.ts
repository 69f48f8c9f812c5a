// The review workbench's pure parts: the fields of a result as the reviewer sees them, the
// corrections applied to a result, which save errors are final, what an empty task view says,
// and the shortcuts. Unit-tested; the screen and the workbench build on them.
import { isApiError } from "../api";
import { TRANSIENT_ERROR_CODES } from "../bindings/constants";
import type { ReviewTask } from "../bindings/ReviewTask";

export const SHORTCUTS: [string, string][] = [
  ["A", "approve (with your edits: save the correction)"],
  ["R", "reject with a reason code (↑/↓ to choose, Enter to confirm, Esc to cancel)"],
  ["E", "edit the first doubtful field"],
  ["Tab / Shift+Tab", "next / previous low-confidence field (compliance: rule)"],
  ["Enter / Esc (in a field)", "keep / undo the edit"],
  ["Space (on a rule)", "compliance: mark the rule passed / failed"],
  ["U", "undo the last decision (the task comes back)"],
  ["J or ↓", "next task (skip this one; it goes back to the queue)"],
  ["K or ↑", "previous task (look at the last decision; U undoes it)"],
  ["V", "compliance: toggle valid / invalid"],
  ["C", "compliance: choose the category the photo shows"],
  ["M", "metrics"],
  ["X / Shift+X (metrics)", "export the evaluation set as JSONL / CSV"],
  ["I (metrics)", "verify the audit trail"],
  ["PageDown / PageUp", "scroll the queue"],
  ["?", "this list"],
  ["Esc", "close the workbench (your tasks go back to the queue)"],
];

/** A field of a result as the workbench shows it. */
export interface FieldView {
  name: string;
  value: string;
  confidence: number;
  failed: string[];
  doubtful: boolean;
  /** The router LLM's second opinion on the field: "agrees", or the value it read instead. */
  second: { agrees: true } | { agrees: false; value: string } | null;
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "iso" in value) return String((value as { iso: unknown }).iso);
  return JSON.stringify(value);
}

interface SecondOpinion { agree?: string[]; differ?: { field: string; llm: unknown }[] }

/** The fields of a model output (top-level objects with a confidence), doubtful ones marked,
 * with the router LLM's second opinion on each when the sync brought one back. */
export function fieldsOf(output: unknown, doubtful: string[]): FieldView[] {
  if (typeof output !== "object" || output === null) return [];
  const opinion = (output as { second_opinion?: SecondOpinion }).second_opinion;
  const secondOf = (name: string): FieldView["second"] => {
    if (opinion?.agree?.includes(name)) return { agrees: true };
    const differ = opinion?.differ?.find((d) => d.field === name);
    return differ ? { agrees: false, value: valueText(differ.llm) } : null;
  };
  return Object.entries(output as Record<string, unknown>).flatMap(([name, field]) => {
    if (typeof field !== "object" || field === null || !("confidence" in field)) return [];
    const f = field as { value?: unknown; confidence: number; checks?: { name: string; passed: boolean }[] };
    const failed = (f.checks ?? []).filter((c) => !c.passed).map((c) => c.name);
    const second = secondOf(name);
    return [{ name, value: valueText(f.value), confidence: f.confidence, failed, second,
      doubtful: doubtful.includes(name) || failed.length > 0 || second?.agrees === false }];
  });
}

/** The output with one field's value replaced by what the reviewer typed (keeping its type). */
export function applyEdit(output: unknown, name: string, text: string): unknown {
  const copy = structuredClone(output) as Record<string, { value?: unknown }>;
  const field = copy[name];
  if (!field) return copy;
  const old = field.value;
  if (typeof old === "object" && old !== null && "iso" in old) field.value = { ...(old as object), iso: text, ambiguous: false };
  else if (typeof old === "number") field.value = Number(text);
  else field.value = text === "" ? null : text;
  return copy;
}

/**
 * A compliance result as the reviewer corrected it: valid or not, the category shown, and
 * rules the reviewer judged otherwise (`rules`: rule id → passed).
 */
export function applyComplianceEdit(output: unknown, valid: boolean | null, category: string | null,
  rules: Map<string, boolean> = new Map()): unknown {
  const copy = structuredClone(output) as { valid?: boolean; category?: { predicted?: string | null } | null;
    rules?: { id: string; passed: boolean | null }[] };
  if (valid !== null) copy.valid = valid;
  if (category !== null) copy.category = { ...(copy.category ?? {}), predicted: category };
  for (const rule of copy.rules ?? []) {
    const passed = rules.get(rule.id);
    if (passed !== undefined) rule.passed = passed;
  }
  return copy;
}

/**
 * Whether a save failed for good (decided elsewhere, taken over, refused) or may be retried:
 * decided by the error's code. Anything that is not the station's error (the IPC itself
 * failed) may pass on a retry.
 */
export function isFinalSaveError(error: unknown): boolean {
  return isApiError(error) && !TRANSIENT_ERROR_CODES.includes(error.code);
}

/**
 * What the task view says when no task could be claimed, in agreement with the queue beside it:
 * nothing is open, or every open task is leased to someone else (who, and until when).
 */
export function emptyTaskMessage(total: number, listed: readonly ReviewTask[], reviewer: string): string {
  if (total === 0) return "Nothing to review with these filters.";
  const leased = listed.find((t) => t.lease_owner && t.lease_owner !== reviewer);
  if (!leased?.lease_owner) return `${total} open ${total === 1 ? "task is" : "tasks are"} in the queue, but none could be claimed just now; retrying…`;
  const until = leased.lease_expires_at ? new Date(leased.lease_expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "its lease ends";
  const others = total === 1 ? "" : ` (every open task here is leased to another reviewer)`;
  return `Task ${leased.id} is being reviewed by ${leased.lease_owner} until ${until}${others}: it comes back to the queue if it is not decided by then.`;
}

export function doubtfulOf(task: ReviewTask): string[] {
  const v = task.versions as { doubtful_fields?: string[] } | null;
  return v?.doubtful_fields ?? [];
}

/** The router LLM's reading of a judgment (its outcome and summary), when the sync brought one back. */
export function llmSummaryOf(output: unknown): { outcome: string; sentences: string[] } | null {
  if (typeof output !== "object" || output === null) return null;
  const result = (output as { second_opinion?: { result?: { outcome?: unknown; summary?: unknown } } }).second_opinion?.result;
  if (!result || typeof result.outcome !== "string" || !Array.isArray(result.summary)) return null;
  const sentences = result.summary.flatMap((s: unknown) =>
    typeof s === "object" && s !== null && typeof (s as { text?: unknown }).text === "string" ? [(s as { text: string }).text] : []);
  return { outcome: result.outcome, sentences };
}
