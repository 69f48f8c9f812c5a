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
};

export const REASON_LABELS: Record<GateCheck, string> = {
  too_small: "Too small",
  blank: "Blank",
  dark: "Too dark",
  over_exposed: "Over-exposed",
  blur: "Blurred",
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

export type ItemState = "pass" | "fail" | "error";

export function itemState(item: ItemRow): ItemState {
  if (item.status === "error") return "error";
  return item.verdict === "pass" ? "pass" : "fail";
}

export const STATE_LABELS: Record<ItemState, string> = { pass: "Pass", fail: "Fail", error: "Error" };

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
