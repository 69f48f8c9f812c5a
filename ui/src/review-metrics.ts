// The review workbench's metrics panel (M): agreement per field, outcomes, time per item, the
// gates' false rejects, the charts (uPlot, loaded on first use), the evaluation export and the
// audit check.
import { errorMessage, reviewApi } from "./api";
import type { EvaluationFormat } from "./bindings/EvaluationFormat";
import type { ReviewInsights } from "./bindings/ReviewInsights";
import { h } from "./dom";
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

/** A small uPlot chart; `bars` draws the series as bars over named x positions. */
function chart(title: string, data: uPlot.AlignedData, series: uPlot.Series[], time: boolean, id?: string,
  bars?: string[]): HTMLElement {
  const box = h("div", { class: "review-chart", id: id ?? undefined }, h("p", { class: "small" }, title));
  // loaded on first use (it reads the display's media queries when imported), drawn once the
  // box is in the document
  // uPlot formats numbers with the display's language as it loads; the POSIX locale ("C")
  // is not a valid tag there, so the page reports a neutral one instead
  try {
    new Intl.NumberFormat(navigator.language);
  } catch {
    Object.defineProperty(navigator, "language", { value: "en-US", configurable: true });
  }
  import("uplot")
    .then(({ default: UPlot }) => {
      const drawn = bars ? series.map((s) => ({ ...s, paths: UPlot.paths.bars?.({ size: [0.6, 48] }), points: { show: false } })) : series;
      const axes: uPlot.Axis[] | undefined = bars
        ? [{ values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? bars[t] ?? "" : "")) }, {}]
        : undefined;
      new UPlot({ width: 320, height: 160, legend: { show: true }, scales: { x: bars ? { time: false, range: [-0.5, bars.length - 0.5] } : { time } },
        axes, series: [{}, ...drawn] }, data, box);
    })
    .catch((error: unknown) => box.append(h("p", { class: "model-bad small" }, `Chart unavailable: ${errorMessage(error)}`)));
  return box;
}

/** The p-th percentile (0–1) of some timings, in ms. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
}

/** Fills the panel; `settled` waits for the decisions still being saved, so they count. */
export async function fillMetrics(
  metricsEl: HTMLElement,
  session: { shownMs: number[]; savedMs: number[] },
  settled: () => Promise<void>,
): Promise<void> {
  const { shownMs, savedMs } = session;
  try {
    await settled();
    const m = await reviewApi.metrics();
    metricsEl.replaceChildren(
      h("p", { id: "review-metrics-counts" }, `${m.decisions} decided: ${m.approved} approved, ${m.corrected} corrected, ${m.rejected} rejected; ${m.undone} undone`),
      h("p", { class: "small muted" }, "Agreement of the model with reviewers, per field (documents) and per verdict and rule (compliance):"),
      h("table", { class: "checklist" }, h("tbody", {},
        ...m.fields.map((f) => h("tr", { "data-metric-field": f.field, "data-metric-kind": f.kind },
          h("td", {}, h("span", { class: "small muted" }, `${f.kind} · `), f.field),
          h("td", { class: "num" }, `${f.agreed} / ${f.decided}`),
          h("td", { class: "num" }, f.decided ? `${Math.round((100 * f.agreed) / f.decided)} % agree` : "—"))))),
      h("p", { class: "small muted" }, m.seconds_per_item.map(([r, s]) => `${r}: ${s.toFixed(1)} s per item (median)`).join(" · ")),
      h("p", { class: "small", id: "review-gate" }, m.gate_rejections
        ? `Gate false rejects: ${m.gate_false_rejects} of ${m.gate_rejections} rejections overridden (${Math.round((100 * m.gate_false_rejects) / m.gate_rejections)} %)`
        : "Gate false rejects: no rejected photos reviewed yet"),
      h("p", { class: "small muted", id: "review-speed" },
        `This session: next task shown in ${percentile(shownMs, 0.95).toFixed(1)} ms, decision saved in ${percentile(savedMs, 0.95).toFixed(1)} ms (p95 of ${shownMs.length} / ${savedMs.length})`));
    for (const f of m.fields) {
      const cell = metricsEl.querySelector(`[data-metric-kind="${CSS.escape(f.kind)}"][data-metric-field="${CSS.escape(f.field)}"] td:first-child`);
      const share = f.decided ? f.agreed / f.decided : 0;
      cell?.append(h("span", { class: "agree-bar" }, h("span", { class: `agree-fill${share < 0.9 ? " low" : ""}`, "data-share": Math.round(share * 100) })));
    }
    for (const el of metricsEl.querySelectorAll<HTMLElement>(".agree-fill")) el.style.width = `${el.dataset.share}%`;
    const insights = await reviewApi.insights();
    metricsEl.append(
      chart("Threshold simulator: % of results sent to review, and % of those accepted unseen that reviewers corrected or rejected",
        simulationSeries(insights), [{ label: "to review %", stroke: "#2f6fde" }, { label: "errors accepted %", stroke: "#c0392b" }], false),
      chart("Decisions per day", [insights.volume.map((v) => Date.parse(v.day) / 1000), insights.volume.map((v) => v.decisions)],
        [{ label: "decisions", stroke: "#2f6fde", points: { show: true } }], true, "review-chart-volume"),
      chart("Seconds per item, median, per reviewer", [m.seconds_per_item.map((_, i) => i), m.seconds_per_item.map(([, sec]) => sec)],
        [{ label: "s per item", stroke: "#2f6fde", fill: "rgba(47,111,222,0.35)" }], false, "review-chart-reviewers", m.seconds_per_item.map(([r]) => r)),
      chart("Gate false-reject rate per day: % of the gates' rejections that reviewers overrode",
        [insights.gate.map((g) => Date.parse(g.day) / 1000), insights.gate.map((g) => (g.rejections ? (100 * g.false_rejects) / g.rejections : 0))],
        [{ label: "false rejects %", stroke: "#c0392b", points: { show: true } }], true, "review-chart-gate"));
    const exportStatus = h("span", { class: "small muted", id: "review-export-status" });
    const exporter = (format: EvaluationFormat) => async () => {
      try {
        const n = await reviewApi.exportEvaluation(format);
        exportStatus.textContent = n === null ? "" : `${n} decisions written`;
      } catch (error) {
        exportStatus.textContent = errorMessage(error);
      }
    };
    const jsonl = h("button", { id: "review-export-jsonl", title: "X" }, "Export JSONL");
    jsonl.addEventListener("click", () => void exporter("jsonl")());
    const csv = h("button", { id: "review-export-csv", title: "Shift+X" }, "Export CSV");
    csv.addEventListener("click", () => void exporter("csv")());
    const auditStatus = h("span", { class: "small", id: "review-audit-status" });
    const verify = h("button", { id: "review-verify", title: "I" }, "Verify audit trail");
    verify.addEventListener("click", () => void (async () => {
      auditStatus.textContent = "Verifying…";
      try {
        await settled();
        const check = await reviewApi.verify();
        auditStatus.className = check.intact ? "small model-ok" : "small model-bad";
        auditStatus.dataset.intact = String(check.intact);
        auditStatus.textContent = check.intact
          ? `Audit trail intact: ${check.decisions} decisions, every row chained`
          : `Audit trail broken at decision ${check.broken_at}: ${check.problem}`;
      } catch (error) {
        auditStatus.textContent = errorMessage(error);
      }
    })());
    metricsEl.append(h("div", { class: "visit-actions" }, jsonl, csv, exportStatus), h("div", { class: "visit-actions" }, verify, auditStatus));
  } catch (error) {
    metricsEl.replaceChildren(h("p", { class: "model-bad" }, errorMessage(error)));
  }
}
