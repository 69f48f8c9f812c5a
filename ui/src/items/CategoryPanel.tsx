// The category verdict beside the quality verdict: which store category the photo looks like,
// how sure, and the category expected of it (changing it judges the photo again).
import { useState } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { CategoryResult } from "../bindings/CategoryResult";
import type { StoresInfo } from "../bindings/StoresInfo";
import { CATEGORY_LABELS } from "../format";

export function CategoryPanel({ itemId, initial, stores }: { itemId: number; initial: CategoryResult | null; stores: StoresInfo | null }) {
  const [result, setResult] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [expected, setExpected] = useState(initial?.verdict.expected ?? "");
  const active = stores?.stores.find((s) => s.id === stores.active) ?? null;
  const judge = async (category: string) => {
    setBusy(true);
    try {
      const judged = await api.judgeCategory(itemId, category || null);
      setResult(judged);
      setExpected(judged.verdict.expected ?? "");
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  if (!active && !result) {
    return (
      <section class="category-panel"><h3>Category</h3><div class="category-body">
        <p class="muted small">No store categories yet. Add a store with reference-photo folders to <code>{stores?.config_path ?? "stores.toml"}</code>.</p>
      </div></section>
    );
  }
  const names = active?.categories.filter((c) => !c.problem || c.reference_count > 0 || c.imagenet.length > 0).map((c) => c.name) ?? [];
  const v = result?.verdict;
  return (
    <section class="category-panel">
      <h3>Category</h3>
      <div class="category-body">
        {v && (
          <p>
            <span class={`verdict category-${v.verdict}`} data-category-verdict={v.verdict}>{CATEGORY_LABELS[v.verdict] ?? v.verdict}</span>
            {" "}
            {v.verdict === "irrelevant"
              ? <span class="muted" data-foreign={v.foreign?.name ?? undefined}>
                  {v.foreign
                    ? `ImageNet sees ${v.foreign.name} (${(v.foreign.score * 100).toFixed(0)} %), which no reference photo of this store shows`
                    : "far from every category"}
                </span>
              : <strong class="predicted">{v.predicted ?? "—"}</strong>}
          </p>
        )}
        <label class="small">Expected{" "}
          <select class="expected-category" aria-label="Expected category" disabled={busy} value={expected}
            onChange={(e) => { const value = (e.target as HTMLSelectElement).value; setExpected(value); void judge(value); }}>
            <option value="">— not set —</option>
            {names.map((n) => <option value={n}>{n}</option>)}
          </select>
          {" "}
          <button class="judge-category" disabled={busy} onClick={() => void judge(expected)}>{result ? "Judge again" : "Judge"}</button>
        </label>
        {v && result && (
          <>
            <table class="checks">
              <thead><tr><th>Category</th><th>Similarity</th></tr></thead>
              <tbody>
                {v.scores.slice(0, 5).map((s) => <tr class={s.name === v.predicted ? "ok" : undefined}><td>{s.name}</td><td class="num">{s.score.toFixed(3)}</td></tr>)}
              </tbody>
            </table>
            <p class="muted small">
              {`Margin ${v.margin.toFixed(3)} (uncertain below ${v.thresholds.min_margin}); irrelevant below ${v.thresholds.min_similarity}` +
                ` or when ImageNet is ${(v.thresholds.min_foreign_probability * 100).toFixed(0)} % sure of something no reference shows. ` +
                `ImageNet: ${v.imagenet_top.slice(0, 3).map((s) => `${s.name} ${(s.score * 100).toFixed(0)} %`).join(", ")}. ` +
                `${result.store_name} · ${result.model_version} · ${result.provider} · ${result.latency_ms.toFixed(0)} ms`}
            </p>
          </>
        )}
        {error && <p class="item-error-text small" role="alert">{error}</p>}
      </div>
    </section>
  );
}
