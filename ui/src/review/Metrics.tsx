// The review workbench's metrics panel (M): agreement per field, outcomes, time per item, the
// gates' false rejects, the charts, the evaluation export (X, Shift+X) and the audit check (I).
import { useEffect, useRef, useState } from "preact/hooks";
import { errorMessage, reviewApi } from "../api";
import type { EvaluationFormat } from "../bindings/EvaluationFormat";
import type { ReviewInsights } from "../bindings/ReviewInsights";
import type { ReviewMetrics } from "../bindings/ReviewMetrics";
import { drawChart, percentile, simulationSeries, type ChartSpec } from "./charts";

/** What the keys do in the panel; set while it is open. */
export const metricsActions: { current: { export: (format: EvaluationFormat) => void; verify: () => void } | null } = { current: null };

function Chart({ title, id, spec }: { title: string; id?: string; spec: ChartSpec }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const drawn = drawChart(el, spec);
    return () => { void drawn.then((remove) => remove()); };
    // drawn once: the panel loads its data anew each time it opens
  }, []);
  return <div class="review-chart" id={id} ref={box}><p class="small">{title}</p></div>;
}

function Charts({ m, insights }: { m: ReviewMetrics; insights: ReviewInsights }) {
  const day = (d: string) => Date.parse(d) / 1000;
  return (
    <>
      <Chart title="Threshold simulator: % of results sent to review, and % of those accepted unseen that reviewers corrected or rejected"
        spec={{ data: simulationSeries(insights), time: false,
          series: [{ label: "to review %", stroke: "#2f6fde" }, { label: "errors accepted %", stroke: "#c0392b" }] }} />
      <Chart title="Decisions per day" id="review-chart-volume"
        spec={{ data: [insights.volume.map((v) => day(v.day)), insights.volume.map((v) => v.decisions)], time: true,
          series: [{ label: "decisions", stroke: "#2f6fde", points: { show: true } }] }} />
      <Chart title="Seconds per item, median, per reviewer" id="review-chart-reviewers"
        spec={{ data: [m.seconds_per_item.map((_, i) => i), m.seconds_per_item.map(([, sec]) => sec)], time: false,
          series: [{ label: "s per item", stroke: "#2f6fde", fill: "rgba(47,111,222,0.35)" }], bars: m.seconds_per_item.map(([r]) => r) }} />
      <Chart title="Gate false-reject rate per day: % of the gates' rejections that reviewers overrode" id="review-chart-gate"
        spec={{ data: [insights.gate.map((g) => day(g.day)), insights.gate.map((g) => (g.rejections ? (100 * g.false_rejects) / g.rejections : 0))],
          time: true, series: [{ label: "false rejects %", stroke: "#c0392b", points: { show: true } }] }} />
    </>
  );
}

type Loaded = { m: ReviewMetrics; insights: ReviewInsights | null } | { error: string } | null;

/** `settled` waits for the decisions still being saved, so they count. */
export function Metrics({ session, settled }: { session: { shownMs: number[]; savedMs: number[] }; settled: () => Promise<void> }) {
  const [loaded, setLoaded] = useState<Loaded>(null);
  const [exportStatus, setExportStatus] = useState("");
  const [audit, setAudit] = useState<{ text: string; intact?: boolean }>({ text: "" });
  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        await settled();
        const m = await reviewApi.metrics();
        if (live) setLoaded({ m, insights: null });
        const insights = await reviewApi.insights();
        if (live) setLoaded({ m, insights });
      } catch (error) {
        if (live) setLoaded({ error: errorMessage(error) });
      }
    })();
    return () => { live = false; };
  }, []);
  const exporter = async (format: EvaluationFormat) => {
    try {
      const n = await reviewApi.exportEvaluation(format);
      setExportStatus(n === null ? "" : `${n} decisions written`);
    } catch (error) {
      setExportStatus(errorMessage(error));
    }
  };
  const verify = async () => {
    setAudit({ text: "Verifying…" });
    try {
      await settled();
      const check = await reviewApi.verify();
      setAudit({
        intact: check.intact,
        text: check.intact
          ? `Audit trail intact: ${check.decisions} decisions, every row chained`
          : `Audit trail broken at decision ${check.broken_at}: ${check.problem}`,
      });
    } catch (error) {
      setAudit({ text: errorMessage(error) });
    }
  };
  useEffect(() => {
    metricsActions.current = { export: (f) => void exporter(f), verify: () => void verify() };
    return () => { metricsActions.current = null; };
  });
  if (loaded === null) return <div id="review-metrics" class="review-metrics"><p class="muted">Loading…</p></div>;
  if ("error" in loaded) return <div id="review-metrics" class="review-metrics"><p class="model-bad">{loaded.error}</p></div>;
  const { m, insights } = loaded;
  return (
    <div id="review-metrics" class="review-metrics">
      <p id="review-metrics-counts">{`${m.decisions} decided: ${m.approved} approved, ${m.corrected} corrected, ${m.rejected} rejected; ${m.undone} undone`}</p>
      <p class="small muted">Agreement of the model with reviewers, per field (documents) and per verdict and rule (compliance):</p>
      <table class="checklist"><tbody>
        {m.fields.map((f) => {
          const share = f.decided ? f.agreed / f.decided : 0;
          return (
            <tr key={`${f.kind}:${f.field}`} data-metric-field={f.field} data-metric-kind={f.kind}>
              <td>
                <span class="small muted">{`${f.kind} · `}</span>{f.field}
                <span class="agree-bar"><span class={`agree-fill${share < 0.9 ? " low" : ""}`} data-share={Math.round(share * 100)} style={{ width: `${Math.round(share * 100)}%` }} /></span>
              </td>
              <td class="num">{`${f.agreed} / ${f.decided}`}</td>
              <td class="num">{f.decided ? `${Math.round((100 * f.agreed) / f.decided)} % agree` : "—"}</td>
            </tr>
          );
        })}
      </tbody></table>
      <p class="small muted">{m.seconds_per_item.map(([r, s]) => `${r}: ${s.toFixed(1)} s per item (median)`).join(" · ")}</p>
      <p class="small" id="review-gate">
        {m.gate_rejections
          ? `Gate false rejects: ${m.gate_false_rejects} of ${m.gate_rejections} rejections overridden (${Math.round((100 * m.gate_false_rejects) / m.gate_rejections)} %)`
          : "Gate false rejects: no rejected photos reviewed yet"}
      </p>
      <p class="small muted" id="review-speed">
        {`This session: next task shown in ${percentile(session.shownMs, 0.95).toFixed(1)} ms, decision saved in ${percentile(session.savedMs, 0.95).toFixed(1)} ms (p95 of ${session.shownMs.length} / ${session.savedMs.length})`}
      </p>
      {insights && <Charts m={m} insights={insights} />}
      <div class="visit-actions">
        <button id="review-export-jsonl" title="X" onClick={() => void exporter("jsonl")}>Export JSONL</button>
        <button id="review-export-csv" title="Shift+X" onClick={() => void exporter("csv")}>Export CSV</button>
        <span class="small muted" id="review-export-status">{exportStatus}</span>
      </div>
      <div class="visit-actions">
        <button id="review-verify" title="I" onClick={() => void verify()}>Verify audit trail</button>
        <span class={audit.intact === undefined ? "small" : audit.intact ? "small model-ok" : "small model-bad"} id="review-audit-status"
          data-intact={audit.intact === undefined ? undefined : String(audit.intact)}>{audit.text}</span>
      </div>
    </div>
  );
}
