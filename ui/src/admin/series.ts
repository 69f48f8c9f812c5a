// The dashboard's rows as chart series and tables, pure and unit-tested: every bucket of the
// window on the x axis (a bucket without calls is a zero, or a gap for percentiles), one series
// per backend × model, tokens by kind, and the routing shares (decided vs called vs answered).
import type { BackendCount } from "../bindings/BackendCount";
import type { Bucket } from "../bindings/Bucket";
import type { Dashboard } from "../bindings/Dashboard";
import type { QueryWindow } from "../bindings/QueryWindow";
import type { SharePoint } from "../bindings/SharePoint";

/** Seconds per bucket. */
export const BUCKET_SECONDS: Readonly<Record<Bucket, number>> = { hour: 3_600, day: 86_400 };
/** More buckets than this in a window: only those with data are on the axis. */
const MAX_POINTS = 10_000;

export interface Series {
  /** Stable key. */
  key: string;
  label: string;
  values: (number | null)[];
  /** What the series belongs to (a backend × model, a backend): its colour follows it. */
  group?: string;
  /** Its measure within the group (p95, calls %): its dash follows it. */
  measure?: string;
}

/** x values (Unix seconds, UTC bucket starts) and the series over them. */
export interface Table {
  x: number[];
  series: Series[];
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Every bucket start of the window, with any bucket the rows name (sorted, unique). */
export function bucketTimes(window: QueryWindow, present: readonly string[] = []): number[] {
  const from = seconds(window.from);
  const to = seconds(window.to);
  const step = BUCKET_SECONDS[window.bucket];
  const times = new Set<number>();
  if (!isNaN(from) && !isNaN(to) && (to - from) / step <= MAX_POINTS) {
    for (let t = from; t < to; t += step) times.add(t);
  }
  for (const p of present) {
    const t = seconds(p);
    if (!isNaN(t)) times.add(t);
  }
  return [...times].sort((a, b) => a - b);
}

export function comboKey(backend: string, model: string): string {
  return `${backend} · ${model}`;
}

/** The backend × model pairs of some rows, sorted. */
function combos(rows: readonly { backend: string; model: string }[]): string[] {
  return [...new Set(rows.map((r) => comboKey(r.backend, r.model)))].sort();
}

/** One series per key: `pick` of the rows in each bucket, summed (`empty` where none). */
function perBucket<R extends { bucket: string }>(x: number[], rows: readonly R[], keyOf: (r: R) => string, keys: string[],
  pick: (r: R) => number | null, empty: number | null): Map<string, (number | null)[]> {
  const at = new Map(x.map((t, i) => [t, i]));
  const out = new Map(keys.map((k) => [k, x.map((): number | null => empty)]));
  for (const r of rows) {
    const i = at.get(seconds(r.bucket));
    const values = out.get(keyOf(r));
    const v = pick(r);
    if (i === undefined || values === undefined || v === null) continue;
    values[i] = (values[i] ?? 0) + v;
  }
  return out;
}

/** Cost (USD) per backend × model per bucket. */
export function costSeries(d: Dashboard): Table {
  const x = bucketTimes(d.window, d.usage.map((u) => u.bucket));
  const keys = combos(d.usage);
  const values = perBucket(x, d.usage, (u) => comboKey(u.backend, u.model), keys, (u) => u.cost_usd, 0);
  return { x, series: keys.map((k) => ({ key: k, label: k, values: values.get(k)!, group: k })) };
}

export const TOKEN_KINDS = [
  ["input_tokens", "input"],
  ["output_tokens", "output"],
  ["cached_tokens", "cached"],
  ["reasoning_tokens", "reasoning"],
  ["image_tokens", "image"],
] as const;

/** Tokens by kind per bucket (every backend and model together). */
export function tokenSeries(d: Dashboard): Table {
  const x = bucketTimes(d.window, d.usage.map((u) => u.bucket));
  return {
    x,
    series: TOKEN_KINDS.map(([field, label]) => ({
      key: label, label,
      values: perBucket(x, d.usage, () => label, [label], (u) => u[field], 0).get(label)!,
    })),
  };
}

export const LATENCY_MEASURES = [
  ["p50_ms", "p50"],
  ["p95_ms", "p95"],
  ["p99_ms", "p99"],
  ["ttft_p50_ms", "TTFT p50"],
  ["ttft_p95_ms", "TTFT p95"],
] as const;

/** Latency p50/p95/p99 and TTFT p50/p95 (ms) per backend × model per bucket; gaps where none. */
export function latencySeries(d: Dashboard): Table {
  const x = bucketTimes(d.window, d.latency.map((l) => l.bucket));
  const series: Series[] = [];
  for (const combo of combos(d.latency)) {
    const rows = d.latency.filter((l) => comboKey(l.backend, l.model) === combo);
    for (const [field, label] of LATENCY_MEASURES) {
      // one row per bucket × pair: the value as given (percentiles do not add up)
      const values = x.map((): number | null => null);
      const at = new Map(x.map((t, i) => [t, i]));
      for (const r of rows) {
        const i = at.get(seconds(r.bucket));
        if (i !== undefined) values[i] = r[field];
      }
      if (values.some((v) => v !== null)) series.push({ key: `${combo} ${label}`, label: `${combo} ${label}`, values, group: combo, measure: label });
    }
  }
  return { x, series };
}

export interface ShareRow {
  backend: string;
  /** % of requests the routing decided to this backend. */
  decided: number | null;
  /** % of the calls made (every attempt) that went to it. */
  calls: number | null;
  /** % of requests it answered. */
  answered: number | null;
}

function sum(counts: readonly BackendCount[], backend?: string): number {
  return counts.reduce((n, c) => n + (backend === undefined || c.backend === backend ? c.n : 0), 0);
}

const percent = (n: number, of: number): number | null => (of > 0 ? (100 * n) / of : null);

export function shareBackends(shares: readonly SharePoint[]): string[] {
  return [...new Set(shares.flatMap((s) => [...s.decided, ...s.answered, ...s.calls].map((c) => c.backend)))].sort();
}

/** Decided vs called vs answered share per backend over the whole window. */
export function shareRows(shares: readonly SharePoint[]): ShareRow[] {
  const requests = shares.reduce((n, s) => n + s.requests, 0);
  const calls = shares.reduce((n, s) => n + sum(s.calls), 0);
  return shareBackends(shares).map((backend) => ({
    backend,
    decided: percent(shares.reduce((n, s) => n + sum(s.decided, backend), 0), requests),
    calls: percent(shares.reduce((n, s) => n + sum(s.calls, backend), 0), calls),
    answered: percent(shares.reduce((n, s) => n + sum(s.answered, backend), 0), requests),
  }));
}

/** Per bucket: each backend's decided % and calls % (gaps in buckets without requests or calls). */
export function shareSeries(d: Dashboard): Table {
  const x = bucketTimes(d.window, d.shares.map((s) => s.bucket));
  const at = new Map(d.shares.map((s) => [seconds(s.bucket), s]));
  const series: Series[] = [];
  for (const backend of shareBackends(d.shares)) {
    series.push({
      key: `${backend} decided`, label: `${backend} decided %`, group: backend, measure: "decided",
      values: x.map((t) => { const s = at.get(t); return s ? percent(sum(s.decided, backend), s.requests) : null; }),
    });
    series.push({
      key: `${backend} calls`, label: `${backend} calls %`, group: backend, measure: "calls",
      values: x.map((t) => { const s = at.get(t); return s ? percent(sum(s.calls, backend), sum(s.calls)) : null; }),
    });
  }
  return { x, series };
}

export const EVENT_KINDS = [
  ["fallback", "fallbacks"],
  ["timeouts", "timeouts"],
  ["refused_429", "429s"],
  ["refused_503", "503s"],
] as const;

/** Fallbacks, timeouts, 429s and 503s per bucket. */
export function eventSeries(d: Dashboard): Table {
  const x = bucketTimes(d.window, d.shares.map((s) => s.bucket));
  return {
    x,
    series: EVENT_KINDS.map(([field, label]) => ({
      key: label, label,
      values: perBucket(x, d.shares, () => label, [label], (s) => s[field], 0).get(label)!,
    })),
  };
}

/** No call in the whole window: the screen says so instead of drawing empty charts. */
export function isEmpty(d: Dashboard): boolean {
  return d.usage.every((u) => u.attempts === 0) && d.latency.every((l) => l.calls === 0)
    && d.shares.every((s) => s.requests === 0 && sum(s.calls) === 0);
}

/** "12.5 %" (one decimal; "—" without a base). */
export function percentText(v: number | null): string {
  return v === null ? "—" : `${v.toFixed(1)} %`;
}

/** "$0.0123" below a dollar, "$12.34" above. */
export function usdText(v: number): string {
  if (v === 0) return "$0";
  return Math.abs(v) < 1 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`;
}
