// The dashboard's charts (uPlot through review/charts.ts, loaded on first use): cost per
// backend × model, tokens by kind, latency and TTFT percentiles, and the routing shares (decided
// vs called, over the window and per bucket, with fallbacks, timeouts, 429s and 503s) with their
// table. Every title states its unit and the exact window; a range without calls says so.
import { useEffect, useMemo, useRef } from "preact/hooks";
import type uPlot from "uplot";
import type { CsvTable } from "../bindings/CsvTable";
import type { Dashboard } from "../bindings/Dashboard";
import { drawChart, type ChartSpec } from "../review/charts";
import { exportCsv, exportStatus } from "./admin";
import { emptyText, windowText } from "./range";
import {
  costSeries, eventSeries, latencySeries, percentText, shareRows, shareSeries, tokenSeries, type ShareRow, type Table,
} from "./series";

const PALETTE = ["#2f6fde", "#c0392b", "#27ae60", "#d68910", "#8e44ad", "#16a085", "#7f8c8d", "#e84393", "#2c3e50", "#b7950b"];
/** Dashes per measure (solid for the first of a group). */
const DASHES: Readonly<Record<string, number[] | undefined>> = {
  "p95": [6, 3], "p99": [2, 3], "TTFT p50": [10, 4, 2, 4], "TTFT p95": [10, 4], "calls": [6, 3],
};

/** A table's series for uPlot: a colour per group (or per series), a dash per measure. */
export function chartSpec(table: Table, yLabel: string): ChartSpec {
  const groups = [...new Set(table.series.map((s) => s.group ?? s.key))];
  return {
    data: [table.x, ...table.series.map((s) => s.values)] as uPlot.AlignedData,
    series: table.series.map((s): uPlot.Series => ({
      label: s.label,
      stroke: PALETTE[groups.indexOf(s.group ?? s.key) % PALETTE.length],
      dash: s.measure ? DASHES[s.measure] : undefined,
      width: 1.5,
      spanGaps: false,
    })),
    time: true, utc: true, yLabel, height: 220,
  };
}

/** Whether a table has anything but zeros and gaps. */
export function hasData(table: Table): boolean {
  return table.series.some((s) => s.values.some((v) => v !== null && v !== 0));
}

/** One uPlot chart; drawn again when its spec changes, removed with it. */
export function AdminChart({ id, title, spec }: { id: string; title: string; spec: ChartSpec }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const drawn = drawChart(el, { ...spec, width: el.clientWidth > 0 ? el.clientWidth : 560 });
    return () => { void drawn.then((remove) => remove()); };
  }, [spec]);
  return (
    <figure class="admin-chart" id={id}>
      <figcaption class="small admin-chart-title">{title}</figcaption>
      <div class="admin-chart-plot" ref={box} />
    </figure>
  );
}

/** A chart of a table, or the range's "No calls" when it has nothing to draw. */
function TableChart({ id, title, table, yLabel, d }: { id: string; title: string; table: Table; yLabel: string; d: Dashboard }) {
  const spec = useMemo(() => chartSpec(table, yLabel), [table, yLabel]);
  if (!hasData(table)) {
    return (
      <figure class="admin-chart" id={id}>
        <figcaption class="small admin-chart-title">{title}</figcaption>
        <p class="muted chart-empty">{emptyText(d.window)}</p>
      </figure>
    );
  }
  return <AdminChart id={id} title={title} spec={spec} />;
}

export function ExportButton({ table, label = "Export CSV" }: { table: CsvTable; label?: string }) {
  const s = exportStatus.value;
  return (
    <span class="admin-export">
      <button id={`export-${table}`} class="small" title={`Save the ${table} table as CSV`} onClick={() => void exportCsv(table)}>{label}</button>
      <span id={`export-${table}-status`} class="small muted" aria-live="polite">{s?.table === table ? s.text : ""}</span>
    </span>
  );
}

function SharesTable({ rows }: { rows: ShareRow[] }) {
  const measures = ["decided", "calls", "answered"] as const;
  return (
    <table id="shares-table" class="admin-table">
      <thead><tr><th>Backend</th><th class="num">Decided</th><th class="num">Calls</th><th class="num">Answered</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.backend} data-backend={r.backend}>
            <th>{r.backend}</th>
            {measures.map((m) => <td key={m} class="num" data-backend={r.backend} data-measure={m}>{percentText(r[m])}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The window's decided % and calls % per backend, as bars side by side. */
function shareBarsSpec(rows: ShareRow[]): ChartSpec {
  return {
    data: [rows.map((_, i) => i), rows.map((r) => r.decided), rows.map((r) => r.calls)] as uPlot.AlignedData,
    series: [
      { label: "decided %", stroke: PALETTE[0], fill: "rgba(47,111,222,0.45)" },
      { label: "calls %", stroke: PALETTE[1], fill: "rgba(192,57,43,0.45)" },
    ],
    time: false, bars: rows.map((r) => r.backend), yLabel: "%", height: 220,
  };
}

function Shares({ d, win }: { d: Dashboard; win: string }) {
  const rows = useMemo(() => shareRows(d.shares), [d]);
  const bars = useMemo(() => shareBarsSpec(rows), [rows]);
  const perBucket = useMemo(() => shareSeries(d), [d]);
  const events = useMemo(() => eventSeries(d), [d]);
  return (
    <section id="chart-shares" class="admin-card admin-wide" aria-label="Routing shares">
      <div class="admin-card-head">
        <h3>Routing: decided vs called</h3>
        <ExportButton table="shares" />
      </div>
      <div class="admin-charts">
        {rows.length === 0
          ? <p class="muted chart-empty">{emptyText(d.window)}</p>
          : <AdminChart id="chart-shares-window" title={`Share per backend (%): requests decided to it vs calls made to it · ${win}`} spec={bars} />}
        <TableChart id="chart-shares-buckets" d={d} table={perBucket} yLabel="%"
          title={`Share per backend (%) per bucket: decided (solid) vs calls (dashed) · ${win}`} />
        <TableChart id="chart-events" d={d} table={events} yLabel="count"
          title={`Fallbacks, timeouts, 429s and 503s (count) · ${win}`} />
      </div>
      {rows.length > 0 && <SharesTable rows={rows} />}
      <p class="small muted">Decided: % of requests the routing sent to the backend. Calls: % of all calls (retries and fallbacks
        included) made to it. Answered: % of requests it answered.</p>
    </section>
  );
}

export function DashboardCharts({ d }: { d: Dashboard }) {
  const win = windowText(d.window);
  const cost = useMemo(() => costSeries(d), [d]);
  const tokens = useMemo(() => tokenSeries(d), [d]);
  const latency = useMemo(() => latencySeries(d), [d]);
  return (
    <>
      <section class="admin-card" aria-label="Usage">
        <div class="admin-card-head"><h3>Usage</h3><ExportButton table="usage" /></div>
        <TableChart id="chart-cost" d={d} table={cost} yLabel="USD" title={`Cost (USD) per backend × model · ${win}`} />
        <TableChart id="chart-tokens" d={d} table={tokens} yLabel="tokens" title={`Tokens by kind (count) · ${win}`} />
      </section>
      <section class="admin-card" aria-label="Latency">
        <div class="admin-card-head"><h3>Latency</h3><ExportButton table="latency" /></div>
        <TableChart id="chart-latency" d={d} table={latency} yLabel="ms"
          title={`Latency p50 (solid) / p95 / p99 and time to first token p50 / p95 (ms) per backend × model · ${win}`} />
      </section>
      <Shares d={d} win={win} />
    </>
  );
}
