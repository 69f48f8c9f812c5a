// Presentation of gate figures and items. Pure functions, unit-tested.
import type { CheckOutcome } from "./bindings/CheckOutcome";
import type { GateCheck } from "./bindings/GateCheck";
import type { ItemRow } from "./bindings/ItemRow";

export const CHECK_LABELS: Record<GateCheck, string> = {
  too_small: "Resolution",
  blank: "Content (contrast)",
  dark: "Brightness",
  over_exposed: "Exposure",
  blur: "Sharpness (blur effect)",
  faint_text: "Text contrast",
};

export const REASON_LABELS: Record<GateCheck, string> = {
  too_small: "Too small",
  blank: "Blank",
  dark: "Too dark",
  over_exposed: "Over-exposed",
  blur: "Blurred",
  faint_text: "Text too faint",
};

/** Formats a measured value in the unit of its check. */
export function formatValue(check: GateCheck, value: number): string {
  switch (check) {
    case "too_small":
      return `${Math.round(value)} px`;
    case "blur":
      return value.toFixed(3);
    case "over_exposed":
      // Either a share of clipped pixels (0..1) or a mean luma (0..255).
      return value <= 1 ? `${(value * 100).toFixed(1)} %` : value.toFixed(1);
    default:
      return value.toFixed(1);
  }
}

export function formatThreshold(outcome: CheckOutcome): string {
  const op = outcome.bound === "min" ? "≥" : "≤";
  return `${op} ${formatValue(outcome.check, outcome.threshold)}`;
}

export type ItemState = "pass" | "fail" | "error" | "document";

export function itemState(item: ItemRow): ItemState {
  if (item.status === "error") return "error";
  if (item.kind === "document") return "document";
  return item.verdict === "pass" ? "pass" : "fail";
}

export const STATE_LABELS: Record<ItemState, string> = { pass: "Pass", fail: "Fail", error: "Error", document: "PDF" };

/** Category-gate verdicts as reviewers read them. */
export const CATEGORY_LABELS: Record<string, string> = {
  match: "Right category",
  wrong_category: "Wrong category",
  uncertain: "Uncertain category",
  irrelevant: "Irrelevant",
  predicted: "Category",
};

/** A list row's second line. */
export function rowSubtitle(item: ItemRow): string {
  if (item.status === "error") return item.error_message ?? "";
  if (item.kind === "document") {
    const pages = item.page_count ?? 0;
    return `${pages} page${pages === 1 ? "" : "s"} · ${formatDate(item.created_at)}`;
  }
  return `${item.width}×${item.height} · ${formatDate(item.created_at)}`;
}

/** The lines' text in reading order, one per line, as copied to the clipboard. */
export function linesText(lines: { text: string }[]): string {
  return lines.map((l) => l.text).join("\n");
}

/** SVG `points` of a line's polygon. */
export function polygonPoints(polygon: [number, number][] | number[][]): string {
  return polygon.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
}

/** A confidence (0..1) as a percentage. */
export function formatConfidence(confidence: number): string {
  return `${(confidence * 100).toFixed(0)} %`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Local date and time, minutes precision, from an RFC 3339 timestamp. */
export function formatDate(rfc3339: string): string {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
