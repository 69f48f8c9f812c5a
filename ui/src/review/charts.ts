// The metrics panel's numbers and charts: percentiles of this session's timings, the threshold
// simulator's series, and a small uPlot chart, loaded on first use (uPlot reads the display's
// media queries as it is imported; the first screen does not wait for it).
import { errorMessage } from "../api";
import type { ReviewInsights } from "../bindings/ReviewInsights";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** The simulator's series for the chart: thresholds, share sent to review, error rate accepted. */
export function simulationSeries(insights: ReviewInsights): [number[], number[], number[]] {
  return [
    insights.simulation.map((p) => p.threshold),
    insights.simulation.map((p) => 100 * p.review_share),
    insights.simulation.map((p) => 100 * p.error_rate),
  ];
}

/** The p-th percentile (0–1) of some timings, in ms. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
}

export interface ChartSpec {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  time: boolean;
  /** Draws the series as bars over these named x positions (two series: side by side). */
  bars?: string[];
  /** Size in px (default 320 × 160). */
  width?: number;
  height?: number;
  /** Time axis in UTC instead of the display's time zone. */
  utc?: boolean;
  /** The y axis' label (its unit). */
  yLabel?: string;
}

/** A bar series' alignment on its x position: one bar centred, two side by side. */
export function barAlign(index: number, count: number): -1 | 0 | 1 {
  if (count !== 2) return 0;
  return index === 0 ? -1 : 1;
}

/** A value axis's tick labels, with as many decimals as the step between ticks needs (uPlot's
 *  default keeps three, so a cost axis in thousandths of a dollar read "0, 0, 0"). */
export function tickLabels(ticks: number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(ticks[0] ?? 1);
  let decimals = 0;
  if (step > 0 && Number.isFinite(step)) {
    while (decimals < 12 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6) decimals++;
  }
  const format = new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return ticks.map((t) => (t == null ? "" : format.format(t)));
}

/** Draws a chart into `box`; resolves to a function that removes it. */
export async function drawChart(box: HTMLElement, spec: ChartSpec): Promise<() => void> {
  // uPlot formats numbers with the display's language as it loads; the POSIX locale ("C")
  // is not a valid tag there, so the page reports a neutral one instead
  try {
    new Intl.NumberFormat(navigator.language);
  } catch {
    Object.defineProperty(navigator, "language", { value: "en-US", configurable: true });
  }
  try {
    const { default: UPlot } = await import("uplot");
    const { bars, yLabel } = spec;
    const n = spec.series.length;
    const drawn = bars
      ? spec.series.map((s, i) => ({
        ...s, points: { show: false },
        paths: UPlot.paths.bars?.({ size: [n === 2 ? 0.35 : 0.6, 48], align: barAlign(i, n) }),
      }))
      : spec.series;
    const y: uPlot.Axis = { ...(yLabel ? { label: yLabel } : {}), values: (_u, ticks) => tickLabels(ticks) };
    const axes: uPlot.Axis[] = bars
      ? [{ values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? bars[t] ?? "" : "")) }, y]
      : [{}, y];
    const plot = new UPlot({
      width: spec.width ?? 320, height: spec.height ?? 160, legend: { show: true },
      scales: { x: bars ? { time: false, range: [-0.5, bars.length - 0.5] } : { time: spec.time } },
      ...(spec.utc ? { tzDate: (ts: number) => UPlot.tzDate(new Date(ts * 1e3), "Etc/UTC") } : {}),
      axes, series: [{}, ...drawn],
    }, spec.data, box);
    return () => plot.destroy();
  } catch (error) {
    const p = document.createElement("p");
    p.className = "model-bad small";
    p.textContent = `Chart unavailable: ${errorMessage(error)}`;
    box.append(p);
    return () => p.remove();
  }
}
