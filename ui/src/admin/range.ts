// The admin screen's range and the words around it, pure and unit-tested: the presets and the
// custom range (datetime-local inputs, local time, into RFC 3339 UTC), the bucket (day when the
// range is over 3 days, unless chosen), the dashboard query, the exact window as text, and how
// old an offline snapshot is.
import type { Bucket } from "../bindings/Bucket";
import type { DashboardQuery } from "../bindings/DashboardQuery";
import type { Freshness } from "../bindings/Freshness";
import type { QueryWindow } from "../bindings/QueryWindow";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type Preset = "1h" | "24h" | "7d" | "30d";

export const PRESETS: readonly { id: Preset; label: string; ms: number }[] = [
  { id: "1h", label: "Last hour", ms: HOUR_MS },
  { id: "24h", label: "24 h", ms: DAY_MS },
  { id: "7d", label: "7 days", ms: 7 * DAY_MS },
  { id: "30d", label: "30 days", ms: 30 * DAY_MS },
];

/** A preset ending now, or a custom range (RFC 3339 UTC bounds). */
export type Range = { preset: Preset } | { from: string; to: string };

export type BucketChoice = Bucket | "auto";

/** The filters; null is "all". */
export interface Filters {
  backend: string | null;
  model: string | null;
  store: string | null;
  device: number | null;
}

export const NO_FILTERS: Filters = { backend: null, model: null, store: null, device: null };

/** Ranges longer than this are shown per day when the bucket is "auto". */
export const AUTO_DAY_OVER_MS = 3 * DAY_MS;

/** RFC 3339 UTC, whole seconds: "2026-03-01T09:30:00Z". */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A datetime-local input's value ("2026-03-01T10:30", the display's time) as RFC 3339 UTC; null when not a time. */
export function localInputToRfc3339(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
  const at = new Date(y, mo - 1, d, h, mi, s);
  // a day or an hour out of range (Feb 30, 25:00) rolls over: not a time the user meant
  if (at.getFullYear() !== y || at.getMonth() !== mo - 1 || at.getDate() !== d || at.getMinutes() !== mi) return null;
  return toRfc3339(at.getTime());
}

/** An RFC 3339 time as a datetime-local input's value (the display's time, to the minute). */
export function rfc3339ToLocalInput(iso: string): string {
  const at = new Date(iso);
  if (isNaN(at.getTime())) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
}

/** The custom range from the two inputs, or why it is not one. */
export function customRange(fromInput: string, toInput: string): { from: string; to: string } | { error: string } {
  const from = localInputToRfc3339(fromInput);
  const to = localInputToRfc3339(toInput);
  if (from === null || to === null) return { error: "Give both a start and an end." };
  if (Date.parse(from) >= Date.parse(to)) return { error: "The start must be before the end." };
  return { from, to };
}

/** The range's bounds at `now` (a preset ends now). */
export function rangeBounds(range: Range, now: number): { from: string; to: string } {
  if ("preset" in range) {
    const ms = PRESETS.find((p) => p.id === range.preset)?.ms ?? DAY_MS;
    return { from: toRfc3339(now - ms), to: toRfc3339(now) };
  }
  return range;
}

export function autoBucket(fromMs: number, toMs: number): Bucket {
  return toMs - fromMs > AUTO_DAY_OVER_MS ? "day" : "hour";
}

export function bucketFor(choice: BucketChoice, from: string, to: string): Bucket {
  return choice === "auto" ? autoBucket(Date.parse(from), Date.parse(to)) : choice;
}

/** The dashboard query for the range, bucket and filters at `now`. */
export function buildQuery(range: Range, bucket: BucketChoice, filters: Filters, now: number): DashboardQuery {
  const { from, to } = rangeBounds(range, now);
  return { from, to, bucket: bucketFor(bucket, from, to), ...filters };
}

/** "2026-03-01 10:00" (UTC). */
export function utcText(iso: string): string {
  const at = new Date(iso);
  if (isNaN(at.getTime())) return iso;
  return at.toISOString().slice(0, 16).replace("T", " ");
}

export const BUCKET_WORDS: Readonly<Record<Bucket, string>> = { hour: "per hour", day: "per day" };

/** The exact window: "2026-03-01 10:00 – 2026-03-02 10:00 UTC, per hour". */
export function windowText(w: QueryWindow): string {
  return `${utcText(w.from)} – ${utcText(w.to)} UTC, ${BUCKET_WORDS[w.bucket]}`;
}

/** What an empty range says instead of an empty chart. */
export function emptyText(w: QueryWindow): string {
  return `No calls between ${utcText(w.from)} and ${utcText(w.to)} UTC.`;
}

/** How long ago: "less than a minute", "1 minute", "12 minutes", "5 hours", "3 days". */
export function ageText(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (isNaN(at)) return "an unknown time";
  const min = Math.floor(Math.max(0, now - at) / 60_000);
  if (min < 1) return "less than a minute";
  if (min < 60) return `${min} minute${min === 1 ? "" : "s"}`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} hour${h === 1 ? "" : "s"}`;
  return `${Math.floor(h / 24)} days`;
}

/** The offline banner; null when the data is fresh. */
export function offlineText(f: Freshness, now: number): string | null {
  if (f.fresh) return null;
  const reason = f.offline_reason ?? "the router did not answer";
  return `Offline — showing the snapshot synced ${ageText(f.fetched_at, now)} ago (${utcText(f.fetched_at)} UTC): ${reason}`;
}
