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
  /** Draws the series as bars over these named x positions. */
  bars?: string[];
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
    const { bars } = spec;
    const drawn = bars ? spec.series.map((s) => ({ ...s, paths: UPlot.paths.bars?.({ size: [0.6, 48] }), points: { show: false } })) : spec.series;
    const axes: uPlot.Axis[] | undefined = bars
      ? [{ values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? bars[t] ?? "" : "")) }, {}]
      : undefined;
    const plot = new UPlot({
      width: 320, height: 160, legend: { show: true },
      scales: { x: bars ? { time: false, range: [-0.5, bars.length - 0.5] } : { time: spec.time } },
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
